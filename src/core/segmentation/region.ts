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
/** Voxels along each axis of a box. */
export function boxSize(box: VoxelBox): Vec3 {
  return [box.max[0] - box.min[0] + 1, box.max[1] - box.min[1] + 1, box.max[2] - box.min[2] + 1];
}

/** The box moved by `by` voxels. */
export function shiftBox(box: VoxelBox, by: Vec3): VoxelBox {
  return { min: box.min.map((v, a) => v + by[a]) as Vec3, max: box.max.map((v, a) => v + by[a]) as Vec3 };
}

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
 * The box cut into slabs along k of at most `maxVoxels` voxels (at least one slice each), the
 * slabs nearest slice `k` first, and slice `k` alone first when the box holds it: a large part is
 * composed, sent and written slab by slab so that the clicked slice shows first (after composing
 * one slice) and no single step runs long.
 */
export function slabsNearest(box: VoxelBox, k: number, maxVoxels: number): VoxelBox[] {
  const sliceVoxels = (box.max[0] - box.min[0] + 1) * (box.max[1] - box.min[1] + 1);
  const depth = Math.max(1, Math.floor(maxVoxels / sliceVoxels));
  const slab = (k0: number, k1: number): VoxelBox => ({ min: [box.min[0], box.min[1], k0], max: [box.max[0], box.max[1], k1] });
  const [first, last] = [box.min[2], box.max[2]];
  if (k < first || k > last || depth === 1) {
    const slabs: VoxelBox[] = [];
    for (let k0 = first; k0 <= last; k0 += depth) slabs.push(slab(k0, Math.min(last, k0 + depth - 1)));
    const distance = (s: VoxelBox) => Math.max(0, s.min[2] - k, k - s.max[2]);
    return slabs.sort((a, b) => distance(a) - distance(b));
  }
  // Outwards from slice k, the nearer side first at each distance.
  const slabs = [slab(k, k)];
  for (let step = 0; k + 1 + step * depth <= last || k - 1 - step * depth >= first; step++) {
    const above = k + 1 + step * depth;
    const below = k - 1 - step * depth;
    if (above <= last) slabs.push(slab(above, Math.min(last, above + depth - 1)));
    if (below >= first) slabs.push(slab(Math.max(first, below - depth + 1), below));
  }
  return slabs;
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
  const encoder = new RunEncoder(data);
  encoder.encode(data.length);
  return encoder.result();
}

/** Bytes coded before judging whether the runs will be smaller than the data. */
const NOISE_PROBE_BYTES = 1 << 18;

/**
 * The runs of `data`, or null when they would not be smaller than it (noise). Judged first from the
 * first NOISE_PROBE_BYTES: coding noise makes a run of almost every byte, and coding a 2 MB slab of
 * it whole took 50-100 ms on the main thread (bench:segment profile).
 */
export function encodeRunsIfSmaller(data: Uint8Array): RunLength | null {
  const encoder = new RunEncoder(data);
  encoder.encode(NOISE_PROBE_BYTES);
  if (encoder.projectedBytes >= data.length) return null;
  encoder.encode(data.length);
  return encoder.bytes < data.length ? encoder.result() : null;
}

/**
 * Run-length codes a buffer a slice at a time, so the main thread can code a large labelmap
 * between frames instead of blocking for the whole of it.
 */
export class RunEncoder {
  private values = new Uint8Array(256);
  private lengths = new Uint32Array(256);
  private runs = 0;
  private position = 0;

  constructor(private readonly data: Uint8Array) {}

  get done(): boolean {
    return this.position >= this.data.length;
  }

  /** Size of the runs coded so far, as `runBytes` counts it. */
  get bytes(): number {
    return this.runs * (Uint8Array.BYTES_PER_ELEMENT + Uint32Array.BYTES_PER_ELEMENT);
  }

  /** The coded size of the whole buffer, extrapolated from what is coded so far. */
  get projectedBytes(): number {
    return this.position > 0 ? (this.bytes * this.data.length) / this.position : 0;
  }

  /** Codes up to `count` more bytes. */
  encode(count: number): void {
    const { data } = this;
    const end = Math.min(data.length, this.position + count);
    let runs = this.runs;
    let value = runs > 0 ? this.values[runs - 1] : -1;
    let length = runs > 0 ? this.lengths[runs - 1] : 0;
    for (let n = this.position; n < end; n++) {
      if (data[n] === value) {
        length++;
        continue;
      }
      if (runs > 0) this.lengths[runs - 1] = length;
      if (runs === this.values.length) this.grow();
      value = data[n];
      this.values[runs++] = value;
      length = 1;
    }
    if (runs > 0) this.lengths[runs - 1] = length;
    this.runs = runs;
    this.position = end;
  }

  result(): RunLength {
    if (!this.done) throw new Error('RunEncoder.result() before the whole buffer is coded.');
    return { values: this.values.slice(0, this.runs), lengths: this.lengths.slice(0, this.runs) };
  }

  private grow(): void {
    const values = new Uint8Array(this.values.length * 2);
    const lengths = new Uint32Array(this.lengths.length * 2);
    values.set(this.values);
    lengths.set(this.lengths);
    this.values = values;
    this.lengths = lengths;
  }
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
 * The smallest box holding every 1 of a 0/1 mask (i-fastest), looking only inside `within` (default:
 * everywhere), or null when there is none. Native indexOf skips empty slices and rows quickly:
 * model masks are mostly empty.
 */
export function maskBounds(
  mask: Uint8Array,
  size: Vec3,
  within: VoxelBox = { min: [0, 0, 0], max: [size[0] - 1, size[1] - 1, size[2] - 1] },
): VoxelBox | null {
  const [nx, ny] = size;
  const [i0, j0, k0] = within.min;
  const [i1, j1, k1] = within.max;
  let box: VoxelBox | null = null;
  for (let k = k0; k <= k1; k++) {
    const slice = mask.subarray(nx * ny * k + nx * j0, nx * ny * k + nx * (j1 + 1));
    if (slice.indexOf(1) < 0) continue;
    for (let j = j0; j <= j1; j++) {
      const row = mask.subarray(nx * (j + ny * k) + i0, nx * (j + ny * k) + i1 + 1);
      const first = row.indexOf(1);
      if (first < 0) continue;
      const last = row.lastIndexOf(1);
      if (!box) box = { min: [i0 + first, j, k], max: [i0 + last, j, k] };
      else {
        box.min = [Math.min(box.min[0], i0 + first), Math.min(box.min[1], j), box.min[2]];
        box.max = [Math.max(box.max[0], i0 + last), Math.max(box.max[1], j), k];
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

/** The voxels both boxes hold, or null when they do not overlap (or either is null). */
export function intersectBox(a: VoxelBox | null, b: VoxelBox | null): VoxelBox | null {
  if (!a || !b) return null;
  const min = a.min.map((v, axis) => Math.max(v, b.min[axis])) as Vec3;
  const max = a.max.map((v, axis) => Math.min(v, b.max[axis])) as Vec3;
  return min.some((v, axis) => v > max[axis]) ? null : { min, max };
}
