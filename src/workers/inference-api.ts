/**
 * The protocol of the inference worker (src/workers/inference.worker.ts): every message type, in
 * one place. Import only types from here on the main thread; call through `createInferenceClient()`
 * (Comlink RPC). Progress callbacks must be wrapped with Comlink.proxy(); large buffers (the
 * volume, mask parts) are transferred, never cloned.
 */
import type { ModelRunFlags } from '../core/busy-flag';
import type { VoxelBox } from '../core/segmentation/region';
import type { SegmentPoint } from '../core/segmentation/segments';
import type { ImageGeometry, Vec3, VoxelArray } from '../core/types';
import type { ModelSource, SourceProgress } from '../inference/model-loader';
import type { Backend, BackendInfo, EncoderPrecision, SessionProgress } from '../inference/ort-web-runner';

export type { Backend, BackendInfo, EncoderPrecision, ModelSource, SessionProgress };

export type LoadModelProgress = SourceProgress | SessionProgress;

export interface LoadedModel {
  name: string;
  source: string;
  /** Whether model.json held SHA-256 digests and both graphs matched them. */
  verified: boolean;
  /** What the user should know about where the model came from, if anything. */
  note?: string;
  backend: BackendInfo;
}

/** An object's mask inside `region` (i-fastest in the box); voxels outside it are not described. */
export interface MaskPart {
  region: VoxelBox;
  mask: Uint8Array;
}

/**
 * Voxels of one part at most: a patch's footprint (millions of voxels on a fine grid) comes as
 * several parts: the clicked slice alone, then k slabs outwards from it (see slabsNearest), so the
 * clicked slice shows after composing one slice rather than the whole footprint, and each write is
 * a short task (in Chromium, a first click's first 2 M-voxel write took 200 ms while the code was
 * still cold, and a warm one 35-60 ms).
 */
export const PART_SLAB_VOXELS = 1 << 20;

export interface SegmentProgress {
  /** Patches of the 128^3 model window run so far for this request. */
  patchesDone: number;
  maxPatches: number;
  /** Whether the patch just run needed the encoder. */
  encoded: boolean;
  /**
   * The object's mask in one slab of where the patch just run may have changed it, to show at once
   * (a target followed across patches grows part by part). Null when nothing there can have changed.
   */
  part: MaskPart | null;
}

export interface SegmentRequest {
  /** The segment the points belong to (its label, as a string, works well). */
  objectId: string;
  /** Every point of the object so far, oldest first, in voxel indices of the volume. */
  points: readonly SegmentPoint[];
  /** Most 128^3 patches each new point may follow the object across (default: the session's, 8). */
  maxPatches?: number;
}

export type SegmentResult =
  | {
      status: 'done';
      /**
       * The object's mask inside `region` (i-fastest in the box), where the parts sent with the
       * progress did not already say it: where a replayed or emptied object was before. Null when
       * the parts said everything.
       */
      region: VoxelBox | null;
      mask: Uint8Array;
      iou: number;
      patchesRun: number;
      patchesEncoded: number;
      /** Worker time of the request, and its decoder share. */
      milliseconds: number;
      decoderMs: number;
    }
  /** A newer request came in (it wins), or cancel() was called. */
  | { status: 'superseded' | 'cancelled' }
  /**
   * The GPU device was lost during the request and the model now runs on the fallback backend:
   * the same request again replays the object there.
   */
  | { status: 'device-lost'; message: string };

/** What the worker holds besides the ONNX sessions, in bytes. */
export interface WorkerMemory {
  /** The worker's own copy of the volume: 0 when it reads the page's shared voxels. */
  volumeBytes: number;
  volumeShared: boolean;
  /** Patch predictions (each object's 128^3 masks and logits): the per-object masks. */
  patches: number;
  patchBytes: number;
  embeddingBytes: number;
}

export interface InferenceApi {
  loadModel(source: ModelSource, onProgress?: (progress: LoadModelProgress) => void): Promise<LoadedModel>;
  /**
   * Shared flags the worker raises while its decoder and its encoder run: the 3D view's surface
   * worker keeps out of their way (see surface.worker.ts).
   */
  announceRunsIn(flags: ModelRunFlags): void;
  /** Hands the volume to the worker (transfer `data`'s buffer: the worker keeps it). */
  setVolume(volumeId: string, geometry: ImageGeometry, data: VoxelArray): Promise<void>;
  /**
   * Encodes the patch a click at `point` would use, when the worker is idle, so the first click
   * only runs the decoder. Resolves to whether it encoded something.
   */
  preEncode(point: Vec3): Promise<boolean>;
  /** Runs the request's new points; each patch's part goes to `onProgress`, and the result comes once all parts were taken. */
  segment(request: SegmentRequest, onProgress?: (progress: SegmentProgress) => void | Promise<void>): Promise<SegmentResult>;
  /** Cancels the running segment request (it resolves as 'cancelled'). */
  cancel(): void;
  /** Forgets an object's prompts (segment deleted). */
  removeObject(objectId: string): void;
  /**
   * The labelmap does not hold the object's last result (its click was rolled back, possibly
   * after the worker finished it): the next request replays the object from its points.
   */
  resync(objectId: string): void;
  memoryReport(): WorkerMemory;
  backendInfo(): Promise<BackendInfo | null>;
  switchBackend(backend: Backend, onProgress?: (progress: SessionProgress) => void): Promise<BackendInfo>;
  /** Runs the fp32 (default) or the model's int8 encoder; cached embeddings of the other one are dropped. */
  setEncoderPrecision(precision: EncoderPrecision, onProgress?: (progress: SessionProgress) => void): Promise<BackendInfo>;
  /** Backend changes the UI did not ask for (WebGPU device lost). */
  onBackendChange(listener: (info: BackendInfo) => void): void;
}
