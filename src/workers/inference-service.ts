/**
 * What the inference worker does, as a plain class (the worker file only exposes it), so Node tests
 * drive the same code with the WASM backend.
 *
 * Requests carry every point of an object: when they extend what the engine has, only the new
 * points run; otherwise (undo, a cancelled request) the object is replayed from its points, which
 * only runs the decoder on cached embeddings. Each segment request aborts the previous one, and a
 * result is returned only if no newer request started meanwhile: a late result never overwrites a
 * newer one.
 */
import * as Comlink from 'comlink';
import type { ModelRunFlags } from '../core/busy-flag';
import { type PatchProgress, SegmentationSession } from '../core/engine/session';
import {
  type VoxelBox,
  boxSize,
  boxVoxelCount,
  intersectBox,
  maskBounds,
  readBox,
  shiftBox,
  slabsNearest,
  unionBox,
} from '../core/segmentation/region';
import { type SegmentPoint, samePoint } from '../core/segmentation/segments';
import { isShared } from '../core/shared-voxels';
import type { ImageGeometry, Vec3, Volume, VoxelArray } from '../core/types';
import { loadModelGraphs } from '../inference/model-loader';
import {
  type Backend,
  type BackendInfo,
  type EncoderPrecision,
  OrtWebRunner,
  type SessionProgress,
  isDeviceLoss,
} from '../inference/ort-web-runner';
import {
  type InferenceApi,
  type MaskPart,
  type LoadModelProgress,
  type LoadedModel,
  type ModelSource,
  PART_SLAB_VOXELS,
  type SegmentProgress,
  type SegmentRequest,
  type SegmentResult,
  type WorkerMemory,
} from './inference-api';

interface ObjectState {
  /** Points the engine has run for this object, in order. */
  applied: SegmentPoint[];
  /** False after an interrupted request: the engine's state is unknown, replay before the next one. */
  inSync: boolean;
  /** resync() calls so far: one during a request keeps the object out of sync after it. */
  resyncs: number;
  /** Where the object's mask was last time, so shrinking masks clear their old voxels. */
  bounds: VoxelBox | null;
}

function isAbort(error: unknown): boolean {
  return (error as Error)?.name === 'AbortError';
}

/** Makes the runner of a loaded model (OrtWebRunner.create; another host may wrap it). */
export type RunnerFactory = typeof OrtWebRunner.create;

export class InferenceService implements InferenceApi {
  private runner: OrtWebRunner | null = null;
  private volume: (Volume & { id: string }) | null = null;
  private session: SegmentationSession | null = null;
  private readonly objects = new Map<string, ObjectState>();
  private latestRequest = 0;
  private controller: AbortController | null = null;
  private preEncoding: Promise<unknown> = Promise.resolve();
  private busy = false;
  private readonly backendListeners = new Set<(info: BackendInfo) => void>();
  /** The encoder graph the cached embeddings come from. */
  private encoderPrecision: EncoderPrecision = 'fp32';
  private runFlags: ModelRunFlags = { decoding: null, encoding: null };

  constructor(private readonly createRunner: RunnerFactory = (model, options) => OrtWebRunner.create(model, options)) {}

  async loadModel(source: ModelSource, onProgress?: (progress: LoadModelProgress) => void): Promise<LoadedModel> {
    const model = await loadModelGraphs(source, onProgress);
    const runner = await this.createRunner(model, {
      onProgress,
      onBackendChange: (info) => {
        this.dropStaleEmbeddings(info);
        this.backendListeners.forEach((listener) => listener(info));
      },
    });
    await this.runner?.dispose();
    this.runner = runner;
    runner.announceRunsIn(this.runFlags);
    this.encoderPrecision = runner.info.encoderPrecision;
    this.resetSession();
    return { name: model.name, source: model.source, verified: model.verified, note: model.note, backend: runner.info };
  }

  announceRunsIn(flags: ModelRunFlags): void {
    this.runFlags = flags;
    this.runner?.announceRunsIn(flags);
  }

  async setVolume(volumeId: string, geometry: ImageGeometry, data: VoxelArray): Promise<void> {
    this.volume = { id: volumeId, geometry, data };
    this.resetSession();
  }

  async preEncode(point: Vec3): Promise<boolean> {
    const session = this.session;
    if (!session || this.busy) return false;
    this.busy = true;
    // The session encodes the patch a first click at `point` would open, and remembers it.
    const work = session.prepare(point);
    this.preEncoding = work.catch(() => undefined);
    try {
      return await work;
    } finally {
      this.busy = false;
    }
  }

  async segment(request: SegmentRequest, onProgress?: (progress: SegmentProgress) => void | Promise<void>): Promise<SegmentResult> {
    const session = this.session;
    if (!session) throw new Error(this.runner ? 'No image is loaded.' : 'No model is loaded.');
    const started = performance.now();
    const requestNumber = ++this.latestRequest;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const isStale = () => requestNumber !== this.latestRequest;

    let object = this.objects.get(request.objectId);
    if (!object) {
      object = { applied: [], inSync: true, resyncs: 0, bounds: null };
      this.objects.set(request.objectId, object);
    }
    const tracked = object;
    const extendsApplied =
      object.inSync && object.applied.length <= request.points.length && object.applied.every((p, n) => samePoint(p, request.points[n]));
    // A replayed object starts empty: wherever it was before must be cleared where it no longer is.
    const formerBounds = extendsApplied ? null : object.bounds;
    if (!extendsApplied) {
      session.removeObject(request.objectId);
      object.applied = [];
    }
    const pending = request.points.slice(object.applied.length);
    // A click right after pre-encoding must find the embedding, not encode it again.
    await this.preEncoding;
    this.busy = true;
    object.inSync = false;
    const resyncsBefore = object.resyncs;
    let iou = 0;
    // Parts the UI is still taking: all must be in before the result (they come on another channel).
    const delivered: Promise<unknown>[] = [];
    // The slice of the point being run: its slab of each patch's footprint goes first.
    let clickK = 0;
    const sendPart = (p: PatchProgress) => {
      const slabs = p.changed ? slabsNearest(p.changed, clickK, PART_SLAB_VOXELS) : [null];
      for (const slab of slabs) {
        // A newer request wins: nothing of this one may reach the UI any more.
        if (isStale()) return;
        const part = slab && this.maskPart(session, request.objectId, tracked, slab);
        // The part's mask is a fresh copy: move it to the UI instead of cloning it. The next slab
        // and patch run while the UI draws this one.
        const message: SegmentProgress = { patchesDone: p.patchesDone, maxPatches: p.maxPatches, encoded: p.encoded, part };
        delivered.push(Promise.resolve(onProgress?.(part ? Comlink.transfer(message, [part.mask.buffer]) : message)));
      }
    };
    let patchesRun = 0;
    let patchesEncoded = 0;
    let decoderMs = 0;
    try {
      for (const point of pending) {
        clickK = Math.round(point.index[2]);
        const result = await session.addClick(request.objectId, point.index.map(Math.round) as Vec3, point.positive, {
          signal: controller.signal,
          maxPatches: request.maxPatches,
          onProgress: sendPart,
        });
        object.applied.push(point);
        iou = result.iou;
        patchesRun += result.patchesRun;
        patchesEncoded += result.patchesEncoded;
        decoderMs += result.decoderMs;
      }
      // The page rolled a click back meanwhile (resync): what this request ran is not on its labelmap.
      object.inSync = object.resyncs === resyncsBefore;
      await Promise.all(delivered);
    } catch (error) {
      if (isAbort(error)) return { status: isStale() ? 'superseded' : 'cancelled' };
      if (isDeviceLoss(error)) return { status: isStale() ? 'superseded' : 'device-lost', message: (error as Error).message };
      throw error;
    } finally {
      if (!isStale()) this.busy = false;
    }
    if (isStale()) return { status: 'superseded' };

    let region: VoxelBox | null = null;
    let mask: Uint8Array = new Uint8Array(0);
    if (request.points.length === 0) {
      // No points left: clear wherever the object was.
      region = object.bounds;
      object.bounds = null;
      mask = new Uint8Array(region ? boxVoxelCount(region) : 0);
    } else if (formerBounds) {
      region = formerBounds;
      mask = session.composeMask(request.objectId, region)!;
    }
    return Comlink.transfer<SegmentResult>(
      { status: 'done', region, mask, iou, patchesRun, patchesEncoded, milliseconds: performance.now() - started, decoderMs },
      [mask.buffer],
    );
  }

  /**
   * The object's mask inside `changed` (what one patch may have changed), cut down to where the
   * object is now or was before: elsewhere in the box no voxel can change.
   */
  private maskPart(session: SegmentationSession, objectId: string, object: ObjectState, changed: VoxelBox | null): MaskPart | null {
    const mask = changed && session.composeMask(objectId, changed);
    if (!mask || !changed) return null;
    const size = boxSize(changed);
    const local = maskBounds(mask, size);
    const bounds = local && shiftBox(local, changed.min);
    const region = intersectBox(changed, unionBox(bounds, object.bounds));
    object.bounds = unionBox(object.bounds, bounds);
    if (!region) return null;
    // The whole box (a noisy mask fills it): no copy of it.
    if (boxVoxelCount(region) === mask.length) return { region, mask };
    return { region, mask: readBox(mask, size, shiftBox(region, changed.min.map((v) => -v) as Vec3)) };
  }

  cancel(): void {
    this.controller?.abort();
  }

  memoryReport(): WorkerMemory {
    const engine = this.session?.memory() ?? { patches: 0, patchBytes: 0, embeddingBytes: 0 };
    const volumeShared = this.volume !== null && isShared(this.volume.data);
    return { volumeBytes: volumeShared ? 0 : (this.volume?.data.byteLength ?? 0), volumeShared, ...engine };
  }

  resync(objectId: string): void {
    const object = this.objects.get(objectId);
    if (!object) return;
    object.inSync = false;
    object.resyncs++;
  }

  removeObject(objectId: string): void {
    this.session?.removeObject(objectId);
    this.objects.delete(objectId);
  }

  async backendInfo(): Promise<BackendInfo | null> {
    return this.runner?.info ?? null;
  }

  async switchBackend(backend: Backend, onProgress?: (progress: SessionProgress) => void): Promise<BackendInfo> {
    return this.dropStaleEmbeddings(await this.requireRunner().switchBackend(backend, onProgress));
  }

  async setEncoderPrecision(precision: EncoderPrecision, onProgress?: (progress: SessionProgress) => void): Promise<BackendInfo> {
    return this.dropStaleEmbeddings(await this.requireRunner().setEncoderPrecision(precision, onProgress));
  }

  /** Embeddings made by the other encoder graph (fp32 or int8) are not this one's: they are encoded again. */
  private dropStaleEmbeddings(info: BackendInfo): BackendInfo {
    if (info.encoderPrecision !== this.encoderPrecision) this.session?.cache.clear();
    this.encoderPrecision = info.encoderPrecision;
    return info;
  }

  onBackendChange(listener: (info: BackendInfo) => void): void {
    this.backendListeners.add(listener);
  }

  private requireRunner(): OrtWebRunner {
    if (!this.runner) throw new Error('No model is loaded.');
    return this.runner;
  }

  /** A new model or volume: embeddings and prompts of the old pair no longer apply. */
  private resetSession(): void {
    this.controller?.abort();
    this.latestRequest++;
    this.objects.clear();
    this.session = this.runner && this.volume ? new SegmentationSession(this.volume, this.runner, { volumeId: this.volume.id }) : null;
  }
}
