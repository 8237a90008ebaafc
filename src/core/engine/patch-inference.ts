/** One 128^3 patch through the model: normalization, prompts, decoding and the binary mask. */
import { LOW_RES_SIZE, LOW_RES_VOXELS, type ModelRunner } from '../model-runner';
import { PATCH_SIZE } from '../resample';
import type { Vec3 } from '../types';
import { upsampledAboveZero } from '../upsample';

/** A click in patch coordinates: voxel index along tensor axes 2, 3, 4 (= model axes 0, 1, 2). */
export interface PatchPoint {
  position: Vec3;
  positive: boolean;
}

export interface PatchPrediction {
  /** Low-resolution logits [32^3], the next click's mask prompt. */
  logits: Float32Array;
  iou: number;
  /** 128^3 C-order mask: sigmoid(upsampled logits) > 0.5, i.e. logit > 0. */
  mask: Uint8Array;
}

/**
 * Z-normalizes a patch in place with the mean and unbiased standard deviation of its voxels
 * above zero (SAM-Med3D's preprocessing; padding and air do not count).
 */
export function normalizeForeground(patch: Float32Array): void {
  let count = 0;
  let sum = 0;
  for (let o = 0; o < patch.length; o++) {
    if (patch[o] > 0) {
      count++;
      sum += patch[o];
    }
  }
  if (count === 0) return;
  const mean = sum / count;
  let squares = 0;
  for (let o = 0; o < patch.length; o++) {
    if (patch[o] > 0) squares += (patch[o] - mean) ** 2;
  }
  const std = count > 1 ? Math.sqrt(squares / (count - 1)) : 0;
  const scale = std > 0 ? 1 / std : 1;
  for (let o = 0; o < patch.length; o++) patch[o] = (patch[o] - mean) * scale;
}

/** The 128^3 binary mask of low-resolution logits. */
export function maskFromLogits(logits: Float32Array): Uint8Array {
  return upsampledAboveZero(logits, [LOW_RES_SIZE, LOW_RES_SIZE, LOW_RES_SIZE], [PATCH_SIZE, PATCH_SIZE, PATCH_SIZE]);
}

/** Decodes one click: all points so far and the previous logits (zeros before the first click). */
export async function decodePatch(
  runner: ModelRunner,
  embeddings: Float32Array,
  points: readonly PatchPoint[],
  maskInput: Float32Array = new Float32Array(LOW_RES_VOXELS),
): Promise<PatchPrediction> {
  const coords = new Float32Array(points.length * 3);
  const labels = new Float32Array(points.length);
  points.forEach((point, n) => {
    coords.set(point.position, 3 * n);
    labels[n] = point.positive ? 1 : 0;
  });
  const { logits, iou } = await runner.decode({ embeddings, points: coords, labels, maskInput });
  return { logits, iou, mask: maskFromLogits(logits) };
}
