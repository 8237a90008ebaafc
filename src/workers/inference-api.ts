/**
 * The typed interface of the inference worker (src/workers/inference.worker.ts), for the UI.
 * Import only types from here on the main thread; call through `createInferenceClient()`.
 * Progress callbacks must be wrapped with Comlink.proxy(); large buffers are transferred.
 */
import type { VoxelBox } from '../core/segmentation/region';
import type { SegmentPoint } from '../core/segmentation/segments';
import type { ImageGeometry, Vec3, VoxelArray } from '../core/types';
import type { ModelSource, SourceProgress } from '../inference/model-loader';
import type { Backend, BackendInfo, SessionProgress } from '../inference/ort-web-runner';

export type { Backend, BackendInfo, ModelSource, SessionProgress };

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

export interface SegmentProgress {
  /** Patches of the 128^3 model window run so far for this request. */
  patchesDone: number;
  maxPatches: number;
  /** Whether the patch just run needed the encoder. */
  encoded: boolean;
  /**
   * The object's mask where the patch just run may have changed it, to show at once (a target
   * followed across patches grows part by part). Null when nothing there can have changed.
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
  /** Boxes of the volume (the planes the views show) whose part of each patch is sent first. */
  previewBoxes?: VoxelBox[];
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
      milliseconds: number;
    }
  /** A newer request came in (it wins), or cancel() was called. */
  | { status: 'superseded' | 'cancelled' };

export interface InferenceApi {
  loadModel(source: ModelSource, onProgress?: (progress: LoadModelProgress) => void): Promise<LoadedModel>;
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
  backendInfo(): Promise<BackendInfo | null>;
  switchBackend(backend: Backend, onProgress?: (progress: SessionProgress) => void): Promise<BackendInfo>;
  /** Backend changes the UI did not ask for (WebGPU device lost). */
  onBackendChange(listener: (info: BackendInfo) => void): void;
}
