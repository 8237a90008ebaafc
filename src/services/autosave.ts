/**
 * Autosave: the segment table (with points) and the labelmap (run-length coded) of the current scan
 * go to IndexedDB a moment after each change. Opening the same scan again (same name, grid and
 * sampled voxels) offers to restore them; until the user answers, nothing is overwritten.
 */
import { RunEncoder } from '../core/segmentation/region';
import { plainVoxels } from '../core/shared-voxels';
import type { Segmentation } from '../core/segmentation/segmentation';
import type { Segment } from '../core/segmentation/segments';
import { type BoxValues, rawValues } from '../core/segmentation/voxel-patch';
import { useAutosaveStore } from '../state/autosave';
import { getVolume } from '../state/volumeRegistry';
import { useVolumeStore } from '../state/volumeStore';
import { currentSegmentation } from './segmentation';

const DB_NAME = 'sam-med3d';
const STORE = 'sessions';
const SAVE_DELAY_MS = 1000;
/** Labelmap bytes coded per main-thread task (a few milliseconds). */
const CODING_SLICE_BYTES = 1 << 22;

interface SavedSession {
  key: string;
  savedAt: number;
  segments: Segment[];
  /** Run-length coded, or raw when coding would not make it smaller (noise). */
  labels: BoxValues;
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

let watched: { segmentation: Segmentation; key: string; unsubscribe: () => void } | null = null;
let saveTimer = 0;

async function save(): Promise<void> {
  const target = watched;
  if (!target || useAutosaveStore.getState().offer) return;
  // Coded in short tasks, so that a large labelmap never blocks the UI; a change meanwhile
  // abandons this save (the change schedules its own).
  const { segmentation } = target;
  const version = segmentation.version;
  const encoder = new RunEncoder(segmentation.labels);
  while (!encoder.done && encoder.bytes < segmentation.labels.length) {
    encoder.encode(CODING_SLICE_BYTES);
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (segmentation.version !== version || watched !== target || segmentation.inTransaction) return;
  }
  const session: SavedSession = {
    key: target.key,
    savedAt: Date.now(),
    segments: [...segmentation.segments],
    labels: encoder.done && encoder.bytes < segmentation.labels.length ? encoder.result() : plainVoxels(segmentation.labels),
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
  watched = {
    segmentation,
    key,
    unsubscribe: segmentation.subscribe(() => {
      window.clearTimeout(saveTimer);
      // A click's parts are not saved one by one: its commit (or rollback) is the next change.
      if (!segmentation.inTransaction) saveTimer = window.setTimeout(() => void save(), SAVE_DELAY_MS);
    }),
  };
  const saved = await withStore<SavedSession | undefined>('readonly', (store) => store.get(key)).catch(() => undefined);
  if (saved?.labels && saved.segments.length > 0 && watched?.key === key) {
    useAutosaveStore.setState({ offer: { savedAt: saved.savedAt, segmentCount: saved.segments.length } });
  }
}

/** Puts the saved segments and labelmap back (one undoable step). */
export async function restoreSession(): Promise<void> {
  const target = watched;
  if (!target) return;
  const saved = await withStore<SavedSession | undefined>('readonly', (store) => store.get(target.key));
  useAutosaveStore.setState({ offer: null });
  if (!saved || currentSegmentation() !== target.segmentation) return;
  const labels = rawValues(saved.labels, target.segmentation.labels.length);
  target.segmentation.replaceAll(labels, saved.segments);
}

/** Forgets the saved session; autosave resumes with the current (new) work. */
export async function discardSession(): Promise<void> {
  const target = watched;
  useAutosaveStore.setState({ offer: null });
  if (target) await withStore('readwrite', (store) => store.delete(target.key)).catch(() => undefined);
  void save();
}
