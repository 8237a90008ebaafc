/**
 * The inference worker seen from the UI: model loading, backend, progress, and clicks that turn
 * into segment masks. Each click sends all the segment's points; the result is applied to the
 * labelmap as one undoable step together with the new points.
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { SegmentPoint } from '../core/segmentation/segments';
import type { Vec3 } from '../core/types';
import type { EditCommand } from '../core/segmentation/history';
import type { VoxelBox } from '../core/segmentation/region';
import type { Backend, BackendInfo, LoadModelProgress, MaskPart, ModelSource, SegmentProgress } from '../workers/inference-api';
import { createInferenceClient, type InferenceClient } from '../workers/inference-client';
import { activeSegment, currentSegmentation, onSegmentationReplaced } from './segmentation';
import { getVolume } from './volumeRegistry';
import { useViewStore } from './viewStore';
import { useVolumeStore } from './volumeStore';

export interface InferenceState {
  modelStatus: 'none' | 'loading' | 'ready' | 'error';
  modelName: string | null;
  modelVerified: boolean;
  /** Error or status text for the user. */
  message: string | null;
  backend: BackendInfo | null;
  /** Progress of the running task, or null when idle. */
  progress: { text: string; fraction: number | null } | null;
  /** Points of a click whose mask is still being computed (drawn before the result comes). */
  pendingPoints: { label: number; points: SegmentPoint[] } | null;
  /**
   * Timing of the last applied click (performance.now() on the main thread), for the benchmark:
   * when its first part was on the labelmap, and when all of it was.
   */
  lastClick: { clickedAt: number; shownAt: number; appliedAt: number; workerMs: number; patchesEncoded: number } | null;
  /** The last pre-encoding that ran: when it finished, and whether it encoded (false: a cached patch already served there). */
  lastPreEncode: { at: number; encoded: boolean } | null;
  /** Most 128^3 patches a click may follow a large target across (a user setting, kept in localStorage). */
  maxPatches: number;
}

export const MAX_PATCHES_RANGE = { min: 1, max: 16 } as const;

export const useInferenceStore = create<InferenceState>()(
  persist(
    (): InferenceState => ({
      modelStatus: 'none',
      modelName: null,
      modelVerified: false,
      message: null,
      backend: null,
      progress: null,
      pendingPoints: null,
      lastClick: null,
      lastPreEncode: null,
      maxPatches: 8,
    }),
    { name: 'sam-med3d-inference', partialize: (state) => ({ maxPatches: state.maxPatches }) },
  ),
);

export function setMaxPatches(value: number): void {
  if (!Number.isFinite(value)) return;
  const { min, max } = MAX_PATCHES_RANGE;
  useInferenceStore.setState({ maxPatches: Math.min(max, Math.max(min, Math.round(value))) });
}

let worker: { client: InferenceClient; terminate: () => void } | null = null;
let volumeSent: string | null = null;

function client(): InferenceClient {
  if (!worker) {
    worker = createInferenceClient();
    void worker.client.onBackendChange(
      Comlink.proxy((backend: BackendInfo) => useInferenceStore.setState({ backend, message: backend.note })),
    );
  }
  return worker.client;
}

/** Gives the worker its own copy of the current voxels (the views keep theirs). */
async function sendVolume(): Promise<void> {
  const volume = useVolumeStore.getState().current;
  const voxels = volume && getVolume(volume.id);
  if (!worker || !volume || !voxels || volumeSent === volume.id) return;
  volumeSent = volume.id;
  const copy = voxels.data.slice();
  await client().setVolume(volume.id, volume.geometry, Comlink.transfer(copy, [copy.buffer]));
}

onSegmentationReplaced(() => void sendVolume());

function describeProgress(progress: LoadModelProgress): { text: string; fraction: number | null } {
  if (progress.phase === 'session') {
    const what = progress.graph === 'self-test' ? 'Testing WebGPU' : `Preparing the ${progress.graph} (${progress.backend})`;
    return { text: what, fraction: null };
  }
  if (progress.phase === 'checkpoint') {
    const text = { open: 'Reading the checkpoint', convert: `Converting the ${progress.graph} weights`, cache: 'Reading the cached model' }[progress.step];
    return { text, fraction: progress.done / progress.total };
  }
  const verb = progress.phase === 'verify' ? 'Checking' : progress.fromCache ? 'Reading cached' : 'Downloading';
  const fraction = progress.totalBytes ? progress.loadedBytes / progress.totalBytes : null;
  return { text: `${verb} ${progress.file}`, fraction };
}

export async function loadModel(source: ModelSource): Promise<void> {
  useInferenceStore.setState({ modelStatus: 'loading', message: null, progress: { text: 'Loading the model', fraction: null } });
  try {
    const loaded = await client().loadModel(
      source,
      Comlink.proxy((progress: LoadModelProgress) => useInferenceStore.setState({ progress: describeProgress(progress) })),
    );
    volumeSent = null;
    await sendVolume();
    useInferenceStore.setState({
      modelStatus: 'ready',
      modelName: loaded.name,
      modelVerified: loaded.verified,
      backend: loaded.backend,
      message: loaded.note ?? (loaded.verified ? null : 'The model has no model.json with SHA-256 digests: it was not verified.'),
    });
  } catch (error) {
    useInferenceStore.setState({ modelStatus: 'error', message: (error as Error).message });
  } finally {
    useInferenceStore.setState({ progress: null });
  }
}

export async function switchBackend(backend: Backend): Promise<void> {
  useInferenceStore.setState({ progress: { text: `Switching to ${backend}`, fraction: null } });
  try {
    useInferenceStore.setState({ backend: await client().switchBackend(backend) });
  } catch (error) {
    useInferenceStore.setState({ message: (error as Error).message });
  } finally {
    useInferenceStore.setState({ progress: null });
  }
}

/** Encodes the patch around `point` ahead of the first click, when the worker is idle. */
export function preEncode(point: Vec3): void {
  if (useInferenceStore.getState().modelStatus !== 'ready' || !worker) return;
  void worker.client
    .preEncode(point)
    .then((encoded) => useInferenceStore.setState({ lastPreEncode: { at: performance.now(), encoded } }))
    .catch(() => undefined);
}

export function cancelInference(): void {
  void worker?.client.cancel();
}

/** Frees the worker's patches and mask of a deleted segment. */
export function forgetObject(label: number): void {
  void worker?.client.removeObject(String(label));
}

/** A click in a view: a positive or negative point for the active segment. */
export async function addPoint(index: Vec3, positive: boolean): Promise<void> {
  const clickedAt = performance.now();
  const segmentation = currentSegmentation();
  if (!segmentation) return;
  if (useInferenceStore.getState().modelStatus !== 'ready') {
    useInferenceStore.setState({ message: 'Load a model first (Model → Open files or Load from URL).' });
    return;
  }
  const segment = activeSegment();
  // Points waiting for a result count too: quick successive clicks all stay.
  const pending = useInferenceStore.getState().pendingPoints;
  const base = pending?.label === segment.label ? pending.points : segment.points;
  const points = [...base, { index, positive }];
  useInferenceStore.setState({ pendingPoints: { label: segment.label, points }, progress: { text: 'Segmenting', fraction: null } });
  // The mask arrives in parts (one per patch run); together they are one undoable step.
  let step: EditCommand | null = null;
  let shownAt: number | null = null;
  const apply = (part: MaskPart | null, within?: VoxelBox) => {
    // The segment may have been deleted, or the volume replaced, while the worker ran.
    if (currentSegmentation() !== segmentation || !segmentation.segment(segment.label)) return;
    step = segmentation.applyModelMask(segment.label, part, { points, amend: step, within });
  };
  // The part of the latest result that waits until the views have drawn its visible planes.
  let rest: (() => void) | null = null;
  let restApplied: Promise<void> = Promise.resolve();
  const applyRest = () => {
    const pending = rest;
    rest = null;
    pending?.();
  };
  const show = (part: MaskPart) => {
    applyRest();
    const first = step === null;
    // The planes the views show first (a part can cover millions of voxels), the rest after the frame.
    for (const plane of visiblePlanes(segmentation.geometry.size)) apply(part, plane);
    rest = () => apply(part);
    restApplied = new Promise((resolve) =>
      requestAnimationFrame(() => {
        // Timed at the frame that draws the new overlay.
        if (first) shownAt = performance.now();
        setTimeout(() => resolve(applyRest()), 0);
      }),
    );
  };
  try {
    const result = await client().segment(
      {
        objectId: String(segment.label),
        points,
        maxPatches: useInferenceStore.getState().maxPatches,
        previewBoxes: visiblePlanes(segmentation.geometry.size),
      },
      Comlink.proxy((p: SegmentProgress) => {
        useInferenceStore.setState({ progress: { text: `Segmenting: patch ${p.patchesDone}`, fraction: null } });
        if (p.part) show(p.part);
      }),
    );
    if (result.status !== 'done') return;
    // After the frame that shows the last part's planes.
    await restApplied;
    apply(result.region && { region: result.region, mask: result.mask });
    // Timed at the frame that draws it; the click counts as busy until then.
    await new Promise(requestAnimationFrame);
    const appliedAt = performance.now();
    useInferenceStore.setState({
      lastClick: { clickedAt, shownAt: shownAt ?? appliedAt, appliedAt, workerMs: result.milliseconds, patchesEncoded: result.patchesEncoded },
    });
  } catch (error) {
    useInferenceStore.setState({ message: (error as Error).message });
  } finally {
    // Parts already shown are completed even when a newer click superseded this one.
    applyRest();
    const state = useInferenceStore.getState();
    if (state.pendingPoints?.points === points) useInferenceStore.setState({ pendingPoints: null, progress: null });
  }
}

/** The index planes (one voxel thick) the three views show now. */
function visiblePlanes(size: Vec3): VoxelBox[] {
  const crosshair = useViewStore.getState().crosshair;
  return [0, 1, 2].map((axis) => {
    const min: Vec3 = [0, 0, 0];
    const max: Vec3 = [size[0] - 1, size[1] - 1, size[2] - 1];
    min[axis] = max[axis] = crosshair[axis];
    return { min, max };
  });
}
