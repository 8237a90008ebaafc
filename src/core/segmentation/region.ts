import type { Vec3 } from '../types';

/** An axis-aligned box of voxel indices, both corners inclusive. */
export interface VoxelBox {
  min: Vec3;
  max: Vec3;
}

export function boxVoxelCount(box: VoxelBox): number {
  return (box.max[0] - box.min[0] + 1) * (box.max[1] - box.min[1] + 1) * (box.max[2] - box.min[2] + 1);
}

/** The intersection of a box with the grid [0, size), or null when they do not overlap. */
export function clipBox(box: VoxelBox, size: Vec3): VoxelBox | null {
  const min: Vec3 = [0, 0, 0];
  const max: Vec3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    min[a] = Math.max(0, Math.floor(box.min[a]));
    max[a] = Math.min(size[a] - 1, Math.ceil(box.max[a]));
    if (min[a] > max[a]) return null;
  }
  return { min, max };
}

/** Copies the voxels of `box` out of an i-fastest grid of `size`, i-fastest within the box. */
export function readBox(grid: Uint8Array, size: Vec3, box: VoxelBox): Uint8Array {
  const [x0, y0, z0] = box.min;
  const nx = box.max[0] - x0 + 1;
  const out = new Uint8Array(boxVoxelCount(box));
  let o = 0;
  for (let k = z0; k <= box.max[2]; k++) {
    for (let j = y0; j <= box.max[1]; j++) {
      const start = x0 + size[0] * (j + size[1] * k);
      out.set(grid.subarray(start, start + nx), o);
      o += nx;
    }
  }
  return out;
}

/** Writes an i-fastest box buffer (as made by `readBox`) back into the grid. */
export function writeBox(grid: Uint8Array, size: Vec3, box: VoxelBox, values: Uint8Array): void {
  const [x0, y0, z0] = box.min;
  const nx = box.max[0] - x0 + 1;
  let o = 0;
  for (let k = z0; k <= box.max[2]; k++) {
    for (let j = y0; j <= box.max[1]; j++) {
      grid.set(values.subarray(o, o + nx), x0 + size[0] * (j + size[1] * k));
      o += nx;
    }
  }
}

/**
 * Run-length encoding of a byte buffer: labelmaps are made of long constant runs, so an edit's
 * before/after values usually shrink by orders of magnitude.
 */
export interface RunLength {
  values: Uint8Array;
  lengths: Uint32Array;
}

export function encodeRuns(data: Uint8Array): RunLength {
  let runs = 0;
  for (let n = 0; n < data.length; n++) if (n === 0 || data[n] !== data[n - 1]) runs++;
  const values = new Uint8Array(runs);
  const lengths = new Uint32Array(runs);
  let r = -1;
  for (let n = 0; n < data.length; n++) {
    if (n === 0 || data[n] !== data[n - 1]) values[++r] = data[n];
    lengths[r]++;
  }
  return { values, lengths };
}

export function decodeRuns(runs: RunLength, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  for (let r = 0; r < runs.values.length; r++) {
    out.fill(runs.values[r], o, o + runs.lengths[r]);
    o += runs.lengths[r];
  }
  return out;
}

export function runBytes(runs: RunLength): number {
  return runs.values.byteLength + runs.lengths.byteLength;
}

/**
 * The smallest box holding every 1 of a 0/1 mask (i-fastest), or null when it is empty. Native
 * indexOf skips empty slices and rows quickly: model masks are mostly empty.
 */
export function maskBounds(mask: Uint8Array, size: Vec3): VoxelBox | null {
  const [nx, ny, nz] = size;
  const sliceSize = nx * ny;
  let box: VoxelBox | null = null;
  for (let k = 0; k < nz; k++) {
    const slice = mask.subarray(k * sliceSize, (k + 1) * sliceSize);
    if (slice.indexOf(1) < 0) continue;
    for (let j = 0; j < ny; j++) {
      const row = slice.subarray(j * nx, (j + 1) * nx);
      const first = row.indexOf(1);
      if (first < 0) continue;
      const last = row.lastIndexOf(1);
      if (!box) box = { min: [first, j, k], max: [last, j, k] };
      else {
        box.min = [Math.min(box.min[0], first), Math.min(box.min[1], j), box.min[2]];
        box.max = [Math.max(box.max[0], last), Math.max(box.max[1], j), k];
      }
    }
  }
  return box;
}

/** The smallest box holding both boxes (either may be null). */
export function unionBox(a: VoxelBox | null, b: VoxelBox | null): VoxelBox | null {
  if (!a) return b;
  if (!b) return a;
  return {
    min: [Math.min(a.min[0], b.min[0]), Math.min(a.min[1], b.min[1]), Math.min(a.min[2], b.min[2])],
    max: [Math.max(a.max[0], b.max[0]), Math.max(a.max[1], b.max[1]), Math.max(a.max[2], b.max[2])],
  };
}
