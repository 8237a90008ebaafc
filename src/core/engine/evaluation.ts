/**
 * Simulated user and metrics for interactive segmentation, as the CVPR 2025 interactive 3D
 * segmentation challenge does it: the first click at the object's most interior voxel, each
 * next click at the most interior voxel of the largest error component (positive where the
 * truth is foreground). Masks are i-fastest buffers of one volume (`dims`, `spacing` in mm).
 */
import type { Vec3 } from '../types';
import { voxelIndex, voxelOffset, voxelStrides } from '../geometry';
import { connectedComponents, distanceTransform, mostInteriorVoxel } from './mask-analysis';

export interface SimulatedClick {
  point: Vec3;
  positive: boolean;
}

/** Inclusive bounding box of the voxels where `select(offset)` holds, or null when there are none. */
function boundingBox(dims: Vec3, select: (offset: number) => boolean): { lo: Vec3; hi: Vec3 } | null {
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-1, -1, -1];
  let o = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, o++) {
        if (!select(o)) continue;
        const index = [i, j, k];
        for (let a = 0; a < 3; a++) {
          lo[a] = Math.min(lo[a], index[a]);
          hi[a] = Math.max(hi[a], index[a]);
        }
      }
    }
  }
  return hi[0] < 0 ? null : { lo, hi };
}

/** Copies the box [lo, hi] (inclusive) of the voxels where `select` holds into a 0/1 mask. */
function cropMask(dims: Vec3, lo: Vec3, hi: Vec3, select: (offset: number) => boolean): { mask: Uint8Array; dims: Vec3 } {
  const cropDims: Vec3 = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
  const mask = new Uint8Array(cropDims[0] * cropDims[1] * cropDims[2]);
  let o = 0;
  for (let k = lo[2]; k <= hi[2]; k++) {
    for (let j = lo[1]; j <= hi[1]; j++) {
      const row = voxelOffset(dims, 0, j, k);
      for (let i = lo[0]; i <= hi[0]; i++, o++) mask[o] = select(row + i) ? 1 : 0;
    }
  }
  return { mask, dims: cropDims };
}

/** Most interior voxel of the selected voxels (computed on their bounding box only). */
function interiorOf(dims: Vec3, spacing: Vec3, select: (offset: number) => boolean): Vec3 | null {
  const box = boundingBox(dims, select);
  if (!box) return null;
  const crop = cropMask(dims, box.lo, box.hi, select);
  const local = mostInteriorVoxel(crop.mask, crop.dims, spacing);
  return local && [local[0] + box.lo[0], local[1] + box.lo[1], local[2] + box.lo[2]];
}

/** The first click: the most interior voxel of the object, or null for an empty object. */
export function firstClick(truth: Uint8Array, dims: Vec3, spacing: Vec3): SimulatedClick | null {
  const point = interiorOf(dims, spacing, (o) => truth[o] !== 0);
  return point && { point, positive: true };
}

/** The next click: inside the largest error component; null when the prediction is perfect. */
export function nextClick(prediction: Uint8Array, truth: Uint8Array, dims: Vec3, spacing: Vec3): SimulatedClick | null {
  const isError = (o: number) => (prediction[o] !== 0) !== (truth[o] !== 0);
  // Work on the errors' bounding box only: whole CT volumes are large.
  const box = boundingBox(dims, isError);
  if (!box) return null;
  const error = cropMask(dims, box.lo, box.hi, isError);
  const { labels, sizes } = connectedComponents(error.mask, error.dims);
  const largest = sizes.reduce((best, size, n) => (size > sizes[best] ? n : best), 0) + 1;
  const local = interiorOf(error.dims, spacing, (o) => labels[o] === largest) as Vec3;
  const point: Vec3 = [local[0] + box.lo[0], local[1] + box.lo[1], local[2] + box.lo[2]];
  return { point, positive: truth[voxelOffset(dims, ...point)] !== 0 };
}

/** Dice of two masks (any non-zero value counts as foreground); 1 when both are empty. */
export function dice(prediction: ArrayLike<number>, truth: ArrayLike<number>): number {
  let both = 0;
  let total = 0;
  for (let o = 0; o < truth.length; o++) {
    const p = prediction[o] !== 0;
    const t = truth[o] !== 0;
    if (p && t) both++;
    total += (p ? 1 : 0) + (t ? 1 : 0);
  }
  return total === 0 ? 1 : (2 * both) / total;
}

/** Area under Dice against click number (trapezoids), normalized to [0, 1] over the clicks made. */
export function diceAuc(dicePerClick: readonly number[]): number {
  if (dicePerClick.length === 1) return dicePerClick[0];
  let area = 0;
  for (let n = 1; n < dicePerClick.length; n++) area += (dicePerClick[n - 1] + dicePerClick[n]) / 2;
  return area / (dicePerClick.length - 1);
}

/** Foreground voxels with a face neighbour in the background (the image border counts as background). */
function surface(mask: Uint8Array, dims: Vec3): Uint8Array {
  const result = new Uint8Array(mask.length);
  const strides = voxelStrides(dims);
  for (let o = 0; o < mask.length; o++) {
    if (!mask[o]) continue;
    const index = voxelIndex(dims, o);
    for (let a = 0; a < 3 && !result[o]; a++) {
      if (index[a] === 0 || index[a] === dims[a] - 1 || !mask[o - strides[a]] || !mask[o + strides[a]]) result[o] = 1;
    }
  }
  return result;
}

/**
 * Normalized surface Dice at `toleranceMm`: the fraction of both surfaces lying within the
 * tolerance of the other surface. Computed on the two masks' joint bounding box plus a margin.
 */
export function normalizedSurfaceDice(prediction: Uint8Array, truth: Uint8Array, dims: Vec3, spacing: Vec3, toleranceMm = 2): number {
  const box = boundingBox(dims, (o) => prediction[o] !== 0 || truth[o] !== 0);
  if (!box) return 1;
  const lo = box.lo.map((v, a) => Math.max(0, v - Math.ceil(toleranceMm / spacing[a]) - 1)) as Vec3;
  const hi = box.hi.map((v, a) => Math.min(dims[a] - 1, v + Math.ceil(toleranceMm / spacing[a]) + 1)) as Vec3;
  const predictionCrop = cropMask(dims, lo, hi, (o) => prediction[o] !== 0);
  const truthCrop = cropMask(dims, lo, hi, (o) => truth[o] !== 0);
  const cropDims = predictionCrop.dims;
  const predictionSurface = surface(predictionCrop.mask, cropDims);
  const truthSurface = surface(truthCrop.mask, cropDims);
  // Distance of every voxel to the nearest voxel of the other surface.
  const notSurface = (s: Uint8Array) => s.map((v) => (v ? 0 : 1));
  const toTruth = distanceTransform(notSurface(truthSurface), cropDims, spacing, false);
  const toPrediction = distanceTransform(notSurface(predictionSurface), cropDims, spacing, false);
  let within = 0;
  let total = 0;
  for (let o = 0; o < cropDims[0] * cropDims[1] * cropDims[2]; o++) {
    if (predictionSurface[o]) {
      total++;
      if (toTruth[o] <= toleranceMm) within++;
    }
    if (truthSurface[o]) {
      total++;
      if (toPrediction[o] <= toleranceMm) within++;
    }
  }
  return total === 0 ? 1 : within / total;
}
