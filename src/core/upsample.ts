import type { Vec3 } from './types';

/** Source taps of one output axis: PyTorch's linear interpolation with align_corners=false. */
interface AxisTaps {
  lo: Int32Array;
  hi: Int32Array;
  weight: Float32Array;
}

function axisTaps(srcSize: number, dstSize: number): AxisTaps {
  const scale = srcSize / dstSize;
  const lo = new Int32Array(dstSize);
  const hi = new Int32Array(dstSize);
  const weight = new Float32Array(dstSize);
  for (let t = 0; t < dstSize; t++) {
    // Clamped at 0 like PyTorch; the upper neighbour is clamped at the last voxel.
    const position = Math.max((t + 0.5) * scale - 0.5, 0);
    lo[t] = Math.min(Math.floor(position), srcSize - 1);
    hi[t] = Math.min(lo[t] + 1, srcSize - 1);
    weight[t] = position - lo[t];
  }
  return { lo, hi, weight };
}

/**
 * Trilinear resize matching torch.nn.functional.interpolate(mode='trilinear', align_corners=false).
 * Buffers are C-order (last axis fastest): sizes are [axis0, axis1, axis2] with axis2 fastest, as in
 * the model's [1, 1, D, H, W] tensors. Done one axis at a time (last axis first, in float64), which
 * performs exactly the arithmetic of the nested formula with a quarter of the work.
 */
export function upsampleTrilinear(src: Float32Array, srcSize: Readonly<Vec3>, dstSize: Readonly<Vec3>): Float32Array {
  const out = new Float32Array(dstSize[0] * dstSize[1] * dstSize[2]);
  resizeTrilinear(src, srcSize, dstSize, out, false);
  return out;
}

/**
 * The 0/1 mask of where `upsampleTrilinear(src, ...)` is above zero (the float32 value, so a
 * positive value too small for float32 counts as zero), without making the float volume.
 */
export function upsampledAboveZero(src: Float32Array, srcSize: Readonly<Vec3>, dstSize: Readonly<Vec3>): Uint8Array {
  const out = new Uint8Array(dstSize[0] * dstSize[1] * dstSize[2]);
  resizeTrilinear(src, srcSize, dstSize, out, true);
  return out;
}

/** Writes the resized values into `out`, or with `aboveZero` 1 where the float32 value is above zero and 0 elsewhere. */
function resizeTrilinear(
  src: Float32Array,
  srcSize: Readonly<Vec3>,
  dstSize: Readonly<Vec3>,
  out: Float32Array | Uint8Array,
  aboveZero: boolean,
): void {
  const { along, taps } = resizeInnerAxes(src, srcSize, dstSize);
  const plane = dstSize[1] * dstSize[2];
  for (let a = 0, o = 0; a < dstSize[0]; a++) {
    const lo = taps.lo[a] * plane;
    const hi = taps.hi[a] * plane;
    const w = taps.weight[a];
    for (let c = 0; c < plane; c++, o++) {
      const value = Math.fround(along[lo + c] * (1 - w) + along[hi + c] * w);
      out[o] = aboveZero ? +(value > 0) : value;
    }
  }
}

/** The last two axes resized (float64), and the first axis's taps: the last pass is the caller's. */
function resizeInnerAxes(src: Float32Array, srcSize: Readonly<Vec3>, dstSize: Readonly<Vec3>): { along: Float64Array; taps: AxisTaps } {
  const [s0, s1, s2] = srcSize;
  if (src.length !== s0 * s1 * s2) throw new Error(`upsampleTrilinear: ${src.length} values for size ${srcSize.join('x')}`);
  const [, d1, d2] = dstSize;
  const alongLast = new Float64Array(s0 * s1 * d2);
  resizeAxis(Float64Array.from(src), alongLast, s0 * s1, s2, 1, axisTaps(s2, d2));
  const alongMiddle = new Float64Array(s0 * d1 * d2);
  resizeAxis(alongLast, alongMiddle, s0, s1, d2, axisTaps(s1, d1));
  return { along: alongMiddle, taps: axisTaps(s0, dstSize[0]) };
}

/**
 * Linear resize of one axis of a C-order buffer seen as [outer, axis, inner]: `length` source
 * samples along the axis become `taps.lo.length`, for every outer and inner index.
 */
function resizeAxis(src: Float64Array, dst: Float64Array, outer: number, length: number, inner: number, taps: AxisTaps): void {
  const size = taps.lo.length;
  let o = 0;
  for (let a = 0; a < outer; a++) {
    const base = a * length * inner;
    for (let t = 0; t < size; t++) {
      const lo = base + taps.lo[t] * inner;
      const hi = base + taps.hi[t] * inner;
      const w = taps.weight[t];
      for (let c = 0; c < inner; c++, o++) dst[o] = src[lo + c] * (1 - w) + src[hi + c] * w;
    }
  }
}
