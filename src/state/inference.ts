/**
 * What the UI shows of the model and of clicks: model status, backend, progress, the points of a
 * running click, the patch limit. State and setters only: src/services/inference.ts talks to the
 * worker and src/services/clickSession.ts runs the clicks.
 */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { SegmentPoint } from '../core/segmentation/segments';
import type { BackendInfo } from '../workers/inference-api';

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
  /** What the worker reported of the last click that was done. */
  lastClick: { workerMs: number; decoderMs: number; patchesRun: number; patchesEncoded: number } | null;
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
