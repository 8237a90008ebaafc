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
  const [s0, s1, s2] = srcSize;
  if (src.length !== s0 * s1 * s2) throw new Error(`upsampleTrilinear: ${src.length} values for size ${srcSize.join('x')}`);
  const [d0, d1, d2] = dstSize;
  const alongLast = new Float64Array(s0 * s1 * d2);
  resizeAxis(src, alongLast, s0 * s1, s2, 1, axisTaps(s2, d2));
  const alongMiddle = new Float64Array(s0 * d1 * d2);
  resizeAxis(alongLast, alongMiddle, s0, s1, d2, axisTaps(s1, d1));
  const out = new Float32Array(d0 * d1 * d2);
  resizeAxis(alongMiddle, out, 1, s0, d1 * d2, axisTaps(s0, d0));
  return out;
}

/**
 * Linear resize of one axis of a C-order buffer seen as [outer, axis, inner]: `length` source
 * samples along the axis become `taps.lo.length`, for every outer and inner index.
 */
function resizeAxis(
  src: ArrayLike<number>,
  dst: Float32Array | Float64Array,
  outer: number,
  length: number,
  inner: number,
  taps: AxisTaps,
): void {
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
