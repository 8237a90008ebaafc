/**
 * Autosave: the segment table (with points) and the labelmap (run-length coded) of the current scan
 * go to IndexedDB a moment after each change. Opening the same scan again (same name, grid and
 * sampled voxels) offers to restore them; until the user answers, nothing is overwritten. The
 * labelmap is kept coded in slabs of slices, and a save codes again only the slabs that changed
 * (a click changes a few of a scan's hundreds of slices).
 */
import type { Segmentation } from '../core/segmentation/segmentation';
import type { Segment } from '../core/segmentation/segments';
import { type BoxValues, rawValues } from '../core/segmentation/voxel-patch';
import { useAutosaveStore } from '../state/autosave';
import { getVolume } from '../state/volumeRegistry';
import { useVolumeStore } from '../state/volumeStore';
import { codeSlab, emptySlab, type SavedSlab, slabValues } from './savedSlabs';
import { currentSegmentation } from './segmentation';

const DB_NAME = 'sam-med3d';
const STORE = 'sessions';
const SAVE_DELAY_MS = 1000;
/** Slices of the labelmap per saved slab. */
const SLAB_SLICES = 8;
/** Milliseconds of coding per main-thread task. */
const CODING_SLICE_MS = 8;

interface SavedSession {
  key: string;
  savedAt: number;
  segments: Segment[];
  /** The labelmap in slabs of SLAB_SLICES slices along k (coded arrays as saved before Blobs). */
  slabs?: (SavedSlab | BoxValues)[];
  /** The whole labelmap, as sessions were saved before slabs. */
  labels?: BoxValues;
}

function openDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'key' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDatabase();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = action(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

/** Identifies a scan across visits: name, grid, and a hash of every 1009th voxel. */
function scanKey(): string | null {
  const volume = useVolumeStore.getState().current;
  const voxels = volume && getVolume(volume.id);
  if (!volume || !voxels) return null;
  let hash = 0x811c9dc5;
  for (let n = 0; n < voxels.data.length; n += 1009) hash = Math.imul(hash ^ Math.round(Number(voxels.data[n])), 0x01000193);
  const g = volume.geometry;
  return JSON.stringify([volume.name, g.size, g.spacing, g.origin, g.direction, (hash >>> 0).toString(16)]);
}

interface Watched {
  segmentation: Segmentation;
  key: string;
  /** Each slab as last saved; null where a change touched it since. */
  slabs: (SavedSlab | null)[];
  unsubscribe: () => void;
}

let watched: Watched | null = null;
let saveTimer = 0;

/** The voxels of slab `n` (a view into the labelmap). */
function slabVoxels(segmentation: Segmentation, n: number): Uint8Array {
  const [nx, ny] = segmentation.geometry.size;
  const sliceVoxels = nx * ny;
  return segmentation.labels.subarray(
    n * SLAB_SLICES * sliceVoxels,
    Math.min(segmentation.labels.length, (n + 1) * SLAB_SLICES * sliceVoxels),
  );
}

async function save(): Promise<void> {
  const target = watched;
  if (!target || useAutosaveStore.getState().offer) return;
  // Changed slabs are coded in short tasks, so that a large change never blocks the UI; a change
  // meanwhile abandons this save (the change schedules its own; slabs coded so far are kept).
  const { segmentation, slabs } = target;
  const version = segmentation.version;
  let taskStart = performance.now();
  for (let n = 0; n < slabs.length; n++) {
    if (slabs[n]) continue;
    if (performance.now() - taskStart > CODING_SLICE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (segmentation.version !== version || watched !== target || segmentation.inTransaction) return;
      taskStart = performance.now();
    }
    slabs[n] = codeSlab(slabVoxels(segmentation, n));
  }
  const session: SavedSession = {
    key: target.key,
    savedAt: Date.now(),
    segments: [...segmentation.segments],
    slabs: slabs as SavedSlab[],
  };
  try {
    await withStore('readwrite', (store) => store.put(session));
    useAutosaveStore.setState({ lastSavedAt: session.savedAt, error: null });
  } catch (error) {
    useAutosaveStore.setState({ error: `Autosave failed: ${(error as Error).message}` });
  }
}

/** Saves `segmentation` a moment after each change, and offers a saved session of the same scan (see src/services/bootstrap.ts). */
export async function watchForAutosave(segmentation: Segmentation | null): Promise<void> {
  watched?.unsubscribe();
  watched = null;
  window.clearTimeout(saveTimer);
  useAutosaveStore.setState({ offer: null });
  const key = scanKey();
  if (!segmentation || !key || typeof indexedDB === 'undefined') return;
  const slabCount = Math.ceil(segmentation.geometry.size[2] / SLAB_SLICES);
  // An empty labelmap is runs of zeros, known without reading it.
  const empty = segmentation.segments.every((s) => segmentation.voxelCount(s.label) === 0);
  const slabs = Array.from({ length: slabCount }, (_, n) => (empty ? emptySlab(slabVoxels(segmentation, n).length) : null));
  watched = {
    segmentation,
    key,
    slabs,
    unsubscribe: segmentation.subscribe((change) => {
      if (change.box) slabs.fill(null, Math.floor(change.box.min[2] / SLAB_SLICES), Math.floor(change.box.max[2] / SLAB_SLICES) + 1);
      window.clearTimeout(saveTimer);
      // A click's parts are not saved one by one: its commit (or rollback) is the next change.
      if (!segmentation.inTransaction) saveTimer = window.setTimeout(() => void save(), SAVE_DELAY_MS);
    }),
  };
  const saved = await withStore<SavedSession | undefined>('readonly', (store) => store.get(key)).catch(() => undefined);
  if ((saved?.slabs ?? saved?.labels) && saved.segments.length > 0 && watched?.key === key) {
    useAutosaveStore.setState({ offer: { savedAt: saved.savedAt, segmentCount: saved.segments.length } });
  }
}

/** Puts the saved segments and labelmap back (one undoable step). */
export async function restoreSession(): Promise<void> {
  const target = watched;
  if (!target) return;
  const saved = await withStore<SavedSession | undefined>('readonly', (store) => store.get(target.key));
  useAutosaveStore.setState({ offer: null });
  if (!saved) return;
  const slabs = saved.slabs && (await Promise.all(saved.slabs.map(slabValues)));
  if (currentSegmentation() !== target.segmentation) return;
  const { segmentation } = target;
  let labels: Uint8Array;
  if (slabs) {
    labels = new Uint8Array(segmentation.labels.length);
    slabs.forEach((slab, n) => {
      const at = slabVoxels(segmentation, n);
      labels.set(rawValues(slab, at.length), at.byteOffset - segmentation.labels.byteOffset);
    });
  } else {
    labels = rawValues(saved.labels!, segmentation.labels.length);
  }
  segmentation.replaceAll(labels, saved.segments);
}

/** Forgets the saved session; autosave resumes with the current (new) work. */
export async function discardSession(): Promise<void> {
  const target = watched;
  useAutosaveStore.setState({ offer: null });
  if (target) await withStore('readwrite', (store) => store.delete(target.key)).catch(() => undefined);
  void save();
}
