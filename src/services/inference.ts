/**
 * The inference worker seen from the app: one worker (started on first use), model loading,
 * backend, pre-encoding, the volume it segments, and clicks (through the click session). Results
 * and progress go into the inference store.
 */
import * as Comlink from 'comlink';
import { createModelRunFlags, type ModelRunFlags } from '../core/busy-flag';
import type { Segmentation } from '../core/segmentation/segmentation';
import { isShared } from '../core/shared-voxels';
import type { Vec3 } from '../core/types';
import { useInferenceStore } from '../state/inference';
import { getVolume } from '../state/volumeRegistry';
import { useVolumeStore } from '../state/volumeStore';
import type { Backend, BackendInfo, EncoderPrecision, LoadModelProgress, ModelSource, WorkerMemory } from '../workers/inference-api';
import { createInferenceClient, type InferenceClient } from '../workers/inference-client';
import { ClickSession, type ClickState } from './clickSession';
import { activeSegment, currentSegmentation } from './segmentation';

let worker: { client: InferenceClient; clicks: ClickSession } | null = null;
/** Volume id the worker holds (null: none yet). */
let volumeSent: string | null = null;
let runFlags: ModelRunFlags | undefined;

/**
 * The flags the inference worker raises while its decoder and its encoder run (null without shared
 * memory): the 3D view's surface worker reads them to keep out of the model's way (see
 * surface.worker.ts).
 */
export function modelRunFlags(): ModelRunFlags {
  runFlags ??= createModelRunFlags();
  return runFlags;
}

function started(): { client: InferenceClient; clicks: ClickSession } {
  if (!worker) {
    const { client } = createInferenceClient();
    void client.announceRunsIn(modelRunFlags());
    void client.onBackendChange(Comlink.proxy((backend: BackendInfo) => useInferenceStore.setState({ backend, message: backend.note })));
    const clicks = new ClickSession(client, Comlink.proxy);
    clicks.subscribe(showClick);
    worker = { client, clicks };
  }
  return worker;
}

/** Mirrors the click session into the store: pending points and progress while a click runs. */
function showClick(state: ClickState): void {
  const running = state.phase === 'encoding' || state.phase === 'decoding';
  if (running) {
    const text = state.phase === 'encoding' ? 'Segmenting' : `Segmenting: patch ${state.patchesDone}`;
    useInferenceStore.setState({ pendingPoints: { label: state.label!, points: [...state.points] }, progress: { text, fraction: null } });
    return;
  }
  useInferenceStore.setState({ pendingPoints: null, progress: null, ...(state.error !== null && { message: state.error }) });
}

/**
 * Gives the worker the current volume's voxels, once per volume: the shared voxels themselves
 * (see volumeRegistry), or a copy where the page is not cross-origin isolated (the views keep theirs).
 */
export async function sendVolume(): Promise<void> {
  const volume = useVolumeStore.getState().current;
  const voxels = volume && getVolume(volume.id);
  if (!worker || !volume || !voxels || volumeSent === volume.id) return;
  volumeSent = volume.id;
  if (isShared(voxels.data)) return worker.client.setVolume(volume.id, volume.geometry, voxels.data);
  const copy = voxels.data.slice();
  await worker.client.setVolume(volume.id, volume.geometry, Comlink.transfer(copy, [copy.buffer]));
}

function describeProgress(progress: LoadModelProgress): { text: string; fraction: number | null } {
  if (progress.phase === 'session') {
    const what = progress.graph === 'self-test' ? 'Testing WebGPU' : `Preparing the ${progress.graph} (${progress.backend})`;
    return { text: what, fraction: null };
  }
  if (progress.phase === 'checkpoint') {
    const text = { open: 'Reading the checkpoint', convert: `Converting the ${progress.graph} weights`, cache: 'Reading the cached model' }[
      progress.step
    ];
    return { text, fraction: progress.done / progress.total };
  }
  const verb = progress.phase === 'verify' ? 'Checking' : progress.fromCache ? 'Reading cached' : 'Downloading';
  const fraction = progress.totalBytes ? progress.loadedBytes / progress.totalBytes : null;
  return { text: `${verb} ${progress.file}`, fraction };
}

export async function loadModel(source: ModelSource): Promise<void> {
  useInferenceStore.setState({ modelStatus: 'loading', message: null, progress: { text: 'Loading the model', fraction: null } });
  try {
    const loaded = await started().client.loadModel(
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
    useInferenceStore.setState({ backend: await started().client.switchBackend(backend) });
  } catch (error) {
    useInferenceStore.setState({ message: (error as Error).message });
  } finally {
    useInferenceStore.setState({ progress: null });
  }
}

/** Runs the fp32 (default) or the model's int8 encoder (experimental). */
export async function setEncoderPrecision(precision: EncoderPrecision): Promise<void> {
  useInferenceStore.setState({ progress: { text: `Switching to the ${precision} encoder`, fraction: null } });
  try {
    const backend = await started().client.setEncoderPrecision(precision);
    useInferenceStore.setState({ backend, message: backend.note });
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

/** Cancels the running click: the labelmap and history are as before it. */
export function cancelInference(): void {
  worker?.clicks.cancel();
}

/** Frees the worker's patches and mask of segments no longer in the table. */
export function forgetObjects(labels: readonly number[]): void {
  for (const label of labels) void worker?.client.removeObject(String(label));
}

/**
 * Bytes held by the worker and by the page (volume, labelmap, undo history), for the benchmark; a
 * shared labelmap is also held by the 3D view's surface worker.
 */
export async function memoryReport(): Promise<{
  worker: WorkerMemory | null;
  page: { volumeBytes: number; labelmapBytes: number; labelmapShared: boolean; historyBytes: number };
}> {
  const volume = useVolumeStore.getState().current;
  const segmentation = currentSegmentation();
  return {
    worker: worker ? await worker.client.memoryReport() : null,
    page: {
      volumeBytes: (volume && getVolume(volume.id)?.data.byteLength) ?? 0,
      labelmapBytes: segmentation?.labels.byteLength ?? 0,
      labelmapShared: segmentation !== null && isShared(segmentation.labels),
      historyBytes: segmentation?.historyBytes ?? 0,
    },
  };
}

/** A click in a view: a positive or negative point for the active segment. */
export async function addPoint(index: Vec3, positive: boolean): Promise<void> {
  const segmentation: Segmentation | null = currentSegmentation();
  if (!segmentation) return;
  if (useInferenceStore.getState().modelStatus !== 'ready' || !worker) {
    useInferenceStore.setState({ message: 'Load a model first (Model → Open files or Load from URL).' });
    return;
  }
  const { maxPatches } = useInferenceStore.getState();
  const outcome = await worker.clicks.click(segmentation, activeSegment().label, index, positive, { maxPatches });
  if (outcome.result) {
    const { milliseconds, decoderMs, patchesRun, patchesEncoded } = outcome.result;
    useInferenceStore.setState({ lastClick: { workerMs: milliseconds, decoderMs, patchesRun, patchesEncoded } });
  }
}
