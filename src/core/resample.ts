/**
 * The model grid: a volume's field of view resampled to 1.5 mm isotropic voxels in canonical
 * RAS+ axes, as SAM-Med3D expects. Nothing is resampled as a whole: 128^3 patches are sampled
 * from the original voxels on demand (trilinear), and patch masks are pasted back onto the
 * original grid (nearest), visiting only the original voxels a patch covers.
 *
 * Canonical axes are a signed permutation of the original index axes, so each model-grid axis
 * follows exactly one original axis: original index = start + step * model index, per axis.
 * Patches are C-order tensors (last axis fastest), tensor axes 2, 3, 4 = model axes 0, 1, 2.
 */
import { canonicalRasPermutation, voxelOffset, voxelStrides, type IndexAxis } from './geometry';
import type { ImageGeometry, Vec3, Volume } from './types';
import type { VoxelBox } from './segmentation/region';

export const MODEL_SPACING_MM = 1.5;
export const PATCH_SIZE = 128;
export const PATCH_VOXELS = PATCH_SIZE ** 3;
/** Buffer step along model axis c in a C-order 128^3 patch tensor. */
export const PATCH_STRIDES: Vec3 = [PATCH_SIZE * PATCH_SIZE, PATCH_SIZE, 1];

export interface ModelGrid {
  /** Voxels of the 1.5 mm canonical grid covering the original field of view. */
  size: Vec3;
  /** Model axis c runs along original index axis `sourceAxis[c]`. */
  sourceAxis: [IndexAxis, IndexAxis, IndexAxis];
  /** Original continuous index (along sourceAxis[c]) of model voxel 0. */
  sourceStart: Vec3;
  /** Original index change per model voxel (negative where the axis is flipped). */
  sourceStep: Vec3;
  /** Size of the original image. */
  sourceSize: Vec3;
}

/**
 * The model grid of an image, as the reference code builds it: torchio's Resample to 1.5 mm
 * (ceil(n * spacing / 1.5) voxels, the first voxel's lower edge on the image's lower edge),
 * then ToCanonical (flipped axes start from the last resampled voxel).
 */
export function modelGrid(geometry: ImageGeometry): ModelGrid {
  const { axes, flips } = canonicalRasPermutation(geometry);
  const size = [0, 0, 0] as Vec3;
  const sourceStart = [0, 0, 0] as Vec3;
  const sourceStep = [0, 0, 0] as Vec3;
  axes.forEach((a, c) => {
    const n = geometry.size[a];
    const ratio = MODEL_SPACING_MM / geometry.spacing[a];
    // A single slice stays one voxel, on that slice.
    size[c] = n === 1 ? 1 : Math.ceil((n * geometry.spacing[a]) / MODEL_SPACING_MM);
    const first = n === 1 ? 0 : (ratio - 1) / 2;
    sourceStep[c] = flips[c] ? -ratio : ratio;
    sourceStart[c] = flips[c] ? first + ratio * (size[c] - 1) : first;
  });
  return { size, sourceAxis: [...axes], sourceStart, sourceStep, sourceSize: [...geometry.size] };
}

/** Continuous model-grid index of a continuous original index. */
export function sourceToModel(grid: ModelGrid, ijk: Vec3): Vec3 {
  return [0, 1, 2].map((c) => (ijk[grid.sourceAxis[c]] - grid.sourceStart[c]) / grid.sourceStep[c]) as Vec3;
}

/** Continuous original index of a continuous model-grid index. */
export function modelToSource(grid: ModelGrid, g: Vec3): Vec3 {
  const ijk = [0, 0, 0] as Vec3;
  for (let c = 0; c < 3; c++) ijk[grid.sourceAxis[c]] = grid.sourceStart[c] + grid.sourceStep[c] * g[c];
  return ijk;
}

/** Per patch position along one model axis: where to read the original buffer (linear interpolation). */
interface LinearTaps {
  /** Buffer offset of the lower neighbour along this axis, or -1 outside the image (value 0). */
  base: Int32Array;
  /** Buffer offset step to the upper neighbour (0 when the axis has a single voxel). */
  next: number;
  weight: Float32Array;
}

function linearTaps(grid: ModelGrid, c: number, first: number): LinearTaps {
  const a = grid.sourceAxis[c];
  const n = grid.sourceSize[a];
  const stride = voxelStrides(grid.sourceSize)[a];
  const base = new Int32Array(PATCH_SIZE);
  const weight = new Float32Array(PATCH_SIZE);
  for (let t = 0; t < PATCH_SIZE; t++) {
    const x = grid.sourceStart[c] + grid.sourceStep[c] * (first + t);
    // Inside the field of view [-0.5, n - 0.5) like ITK's interpolators; beyond it the patch is 0.
    if (x < -0.5 || x >= n - 0.5) {
      base[t] = -1;
      continue;
    }
    const clamped = Math.min(Math.max(x, 0), n - 1);
    const lower = Math.min(Math.floor(clamped), Math.max(n - 2, 0));
    base[t] = lower * stride;
    weight[t] = n > 1 ? clamped - lower : 0;
  }
  return { base, next: n > 1 ? stride : 0, weight };
}

/**
 * The 128^3 patch of the model grid starting at model index `offset`, trilinearly sampled
 * from the original voxels (zeros outside the image), as a C-order tensor buffer.
 */
export function samplePatch(volume: Volume, grid: ModelGrid, offset: Vec3): Float32Array {
  const patch = new Float32Array(PATCH_VOXELS);
  const [A, B, C] = [0, 1, 2].map((c) => linearTaps(grid, c, offset[c]));
  const data = volume.data;
  let out = 0;
  for (let a = 0; a < PATCH_SIZE; a++) {
    const baseA = A.base[a];
    if (baseA < 0) {
      out += PATCH_SIZE * PATCH_SIZE;
      continue;
    }
    const wa = A.weight[a];
    for (let b = 0; b < PATCH_SIZE; b++) {
      const baseB = B.base[b];
      if (baseB < 0) {
        out += PATCH_SIZE;
        continue;
      }
      const wb = B.weight[b];
      const ab = baseA + baseB;
      for (let c = 0; c < PATCH_SIZE; c++, out++) {
        const baseC = C.base[c];
        if (baseC < 0) continue;
        const wc = C.weight[c];
        const o = ab + baseC;
        // Interpolate along C, then B, then A.
        const v00 = data[o] + wc * (data[o + C.next] - data[o]);
        const o1 = o + B.next;
        const v01 = data[o1] + wc * (data[o1 + C.next] - data[o1]);
        const o2 = o + A.next;
        const v10 = data[o2] + wc * (data[o2 + C.next] - data[o2]);
        const o3 = o2 + B.next;
        const v11 = data[o3] + wc * (data[o3 + C.next] - data[o3]);
        const v0 = v00 + wb * (v01 - v00);
        const v1 = v10 + wb * (v11 - v10);
        patch[out] = v0 + wa * (v1 - v0);
      }
    }
  }
  return patch;
}

/** Per original axis: the model voxel nearest to each original index (along the model axis it follows). */
function nearestModelIndex(grid: ModelGrid): [Int32Array, Int32Array, Int32Array] {
  const tables = [new Int32Array(0), new Int32Array(0), new Int32Array(0)] as [Int32Array, Int32Array, Int32Array];
  for (let c = 0; c < 3; c++) {
    const a = grid.sourceAxis[c];
    tables[a] = Int32Array.from({ length: grid.sourceSize[a] }, (_, i) => Math.round((i - grid.sourceStart[c]) / grid.sourceStep[c]));
  }
  return tables;
}

/** Original voxels covered by a patch, with the patch voxel each one takes (nearest). */
export interface PatchFootprint {
  /** Per original axis: tensor offset contribution of each original index, -1 outside the patch. */
  tensorOffset: [Int32Array, Int32Array, Int32Array];
  /** Per original axis: the nearest model voxel's index inside the patch (may be outside 0..127). */
  patchIndex: [Int32Array, Int32Array, Int32Array];
  /** Bounding box of the covered original voxels, inclusive (empty when lo > hi on some axis). */
  lo: Vec3;
  hi: Vec3;
}

export function patchFootprint(grid: ModelGrid, offset: Vec3): PatchFootprint {
  const model = nearestModelIndex(grid);
  const tensorOffset = [new Int32Array(0), new Int32Array(0), new Int32Array(0)] as PatchFootprint['tensorOffset'];
  const patchIndex = [new Int32Array(0), new Int32Array(0), new Int32Array(0)] as PatchFootprint['patchIndex'];
  const lo = [0, 0, 0] as Vec3;
  const hi = [-1, -1, -1] as Vec3;
  for (let c = 0; c < 3; c++) {
    const a = grid.sourceAxis[c];
    const local = model[a].map((m) => m - offset[c]);
    const table = local.map((p) => (p >= 0 && p < PATCH_SIZE ? p * PATCH_STRIDES[c] : -1));
    // The model index is monotonic along the axis, so the covered indices are one range.
    lo[a] = table.findIndex((t) => t >= 0);
    hi[a] = table.findLastIndex((t) => t >= 0);
    if (lo[a] < 0) [lo[a], hi[a]] = [0, -1];
    tensorOffset[a] = table;
    patchIndex[a] = local;
  }
  return { tensorOffset, patchIndex, lo, hi };
}

/**
 * Where an i-fastest target buffer lies on the original grid: the index of its first voxel and
 * its size (the whole grid, or the box of a part).
 */
export interface TargetFrame {
  origin: Vec3;
  size: Vec3;
}

const wholeGrid = (grid: ModelGrid): TargetFrame => ({ origin: [0, 0, 0], size: grid.sourceSize });

/**
 * Fills the box [lo, hi] (original-grid indices) of a target buffer row by row. Rows and slices
 * whose nearest model voxel equals the previous one's are copies of it (several original voxels
 * per 1.5 mm model voxel is the common case), so `fillRow` runs once per distinct model row.
 */
function fillBoxByModelRows(
  target: Uint8Array,
  frame: TargetFrame,
  lo: Vec3,
  hi: Vec3,
  same: { j: (j: number) => boolean; k: (k: number) => boolean },
  fillRow: (out: number, j: number, k: number) => void,
): void {
  const length = hi[0] - lo[0] + 1;
  const [oi, oj, ok] = frame.origin;
  const rowStart = (j: number, k: number) => voxelOffset(frame.size, lo[0] - oi, j - oj, k - ok);
  for (let k = lo[2]; k <= hi[2]; k++) {
    const copySlice = k > lo[2] && same.k(k);
    for (let j = lo[1]; j <= hi[1]; j++) {
      const out = rowStart(j, k);
      if (copySlice) target.copyWithin(out, rowStart(j, k - 1), rowStart(j, k - 1) + length);
      else if (j > lo[1] && same.j(j)) target.copyWithin(out, rowStart(j - 1, k), rowStart(j - 1, k) + length);
      else fillRow(out, j, k);
    }
  }
}

/** The part of a lo/hi range inside `within` (the range itself without one; may come out empty). */
function clampToBox(range: { lo: Vec3; hi: Vec3 }, within?: VoxelBox): { lo: Vec3; hi: Vec3 } {
  if (!within) return range;
  return {
    lo: range.lo.map((v, a) => Math.max(v, within.min[a])) as Vec3,
    hi: range.hi.map((v, a) => Math.min(v, within.max[a])) as Vec3,
  };
}

function sameAsPrevious(indices: Int32Array): (i: number) => boolean {
  return (i) => indices[i] === indices[i - 1];
}

/**
 * Writes a 128^3 C-order patch mask onto an original-grid mask (i-fastest buffer), nearest
 * neighbour, visiting only the original voxels inside the patch's bounding box.
 */
export function pastePatchMask(
  target: Uint8Array,
  grid: ModelGrid,
  footprint: PatchFootprint,
  patchMask: Uint8Array,
  within?: VoxelBox,
  frame = wholeGrid(grid),
): void {
  const [ti, tj, tk] = footprint.tensorOffset;
  const { lo, hi } = clampToBox(footprint, within);
  if (lo.some((v, a) => v > hi[a])) return;
  const same = { j: sameAsPrevious(footprint.patchIndex[1]), k: sameAsPrevious(footprint.patchIndex[2]) };
  fillBoxByModelRows(target, frame, lo, hi, same, (out, j, k) => {
    const row = tj[j] + tk[k];
    for (let i = lo[0]; i <= hi[0]; i++, out++) target[out] = patchMask[row + ti[i]];
  });
}

/** A patch's place: its model-grid offset and the original voxels it covers. */
export interface PlacedPatch {
  offset: Vec3;
  footprint: PatchFootprint;
}

/**
 * The box of original voxels where `patches[index]` may be the covering patch whose centre is
 * nearest (composePatchMasks' rule, a tie going to the earlier patch), or null where it is none:
 * only there can its mask show, so only there can running it change the object's mask. Its
 * footprint is cut along an axis wherever a patch placed like it on the two other axes (covering
 * the same rows, as far from them) is nearer: a face neighbour at 50% overlap takes half of it.
 * Patches placed otherwise cut nothing, so the box may be larger than needed, never smaller.
 */
export function nearestPatchBox(grid: ModelGrid, patches: readonly PlacedPatch[], index: number): VoxelBox | null {
  const { offset, footprint } = patches[index];
  const lo: Vec3 = [...footprint.lo];
  const hi: Vec3 = [...footprint.hi];
  const centre = (PATCH_SIZE - 1) / 2;
  patches.forEach((other, n) => {
    const differing = [0, 1, 2].filter((c) => other.offset[c] !== offset[c]);
    if (differing.length !== 1) return;
    const axis = grid.sourceAxis[differing[0]];
    const mine = footprint.patchIndex[axis];
    const theirs = other.footprint.patchIndex[axis];
    const covered = other.footprint.tensorOffset[axis];
    // Where the other patch covers, it is nearer on one side of the midpoint between the centres:
    // what it takes is a run at one end of this footprint.
    const loses = (i: number) => {
      if (covered[i] < 0) return false;
      const [near, far] = [(theirs[i] - centre) ** 2, (mine[i] - centre) ** 2];
      return near < far || (near === far && n < index);
    };
    while (lo[axis] <= hi[axis] && loses(lo[axis])) lo[axis]++;
    while (hi[axis] >= lo[axis] && loses(hi[axis])) hi[axis]--;
  });
  return lo.some((v, a) => v > hi[a]) ? null : { min: lo, max: hi };
}

export interface PlacedPatchMask extends PlacedPatch {
  /** 128^3 C-order mask. */
  mask: Uint8Array;
}

/**
 * Writes several overlapping patch masks onto an original-grid mask: each original voxel takes
 * the value of the covering patch whose centre is nearest (in model voxels), so every patch
 * decides where it has the most context around it. Voxels of the patches' joint bounding box
 * that no patch covers become 0; voxels outside it are left as they are (an object's patches
 * only get added, so they are still 0). `frame` says which box of the grid `target` holds (the
 * whole grid by default). With `within`, only the voxels of that box are written:
 * after a click, only the footprints of the patches it ran can change.
 */
export function composePatchMasks(
  target: Uint8Array,
  grid: ModelGrid,
  allPatches: readonly PlacedPatchMask[],
  within?: VoxelBox,
  frame = wholeGrid(grid),
): void {
  // Patches that cover nothing of `within` cannot decide any of its voxels.
  const patches = within
    ? allPatches.filter((p) => p.footprint.lo.every((v, a) => v <= within.max[a] && p.footprint.hi[a] >= within.min[a]))
    : allPatches;
  if (patches.length === 0) return;
  if (patches.length === 1) {
    pastePatchMask(target, grid, patches[0].footprint, patches[0].mask, within, frame);
    return;
  }
  const centre = (PATCH_SIZE - 1) / 2;
  // Per patch and original axis: tensor offsets and squared distances to the patch centre.
  const offsets = patches.map((p) => p.footprint.tensorOffset);
  const distances = patches.map((p) => p.footprint.patchIndex.map((local) => Float64Array.from(local, (v) => (v - centre) ** 2)));
  const masks = patches.map((p) => p.mask);
  const joint = {
    lo: [0, 1, 2].map((a) => Math.min(...patches.map((p) => p.footprint.lo[a]))) as Vec3,
    hi: [0, 1, 2].map((a) => Math.max(...patches.map((p) => p.footprint.hi[a]))) as Vec3,
  };
  const { lo, hi } = clampToBox(joint, within);
  if (lo.some((v, a) => v > hi[a])) return;
  // All patches share the model grid, so any patch's indices tell when rows repeat.
  const first = patches[0].footprint.patchIndex;
  const same = { j: sameAsPrevious(first[1]), k: sameAsPrevious(first[2]) };
  // Row by row, patch by patch over the stretch of the row each one covers (tight loops; an
  // object may have many patches): keep the value of the nearest-centred so far.
  const width = hi[0] - lo[0] + 1;
  const bestDistance = new Float64Array(width);
  fillBoxByModelRows(target, frame, lo, hi, same, (out, j, k) => {
    bestDistance.fill(Infinity);
    target.fill(0, out, out + width);
    for (let p = 0; p < patches.length; p++) {
      const [ti, tj, tk] = offsets[p];
      if (tj[j] < 0 || tk[k] < 0) continue;
      const rowOffset = tj[j] + tk[k];
      const rowDistance = distances[p][1][j] + distances[p][2][k];
      const distanceI = distances[p][0];
      const mask = masks[p];
      const first = Math.max(lo[0], patches[p].footprint.lo[0]);
      const last = Math.min(hi[0], patches[p].footprint.hi[0]);
      for (let i = first; i <= last; i++) {
        const distance = rowDistance + distanceI[i];
        if (distance < bestDistance[i - lo[0]]) {
          bestDistance[i - lo[0]] = distance;
          target[out + i - lo[0]] = mask[rowOffset + ti[i]];
        }
      }
    }
  });
}
