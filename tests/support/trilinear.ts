/**
 * The reference the app's mask upsampling is tested against: torch.nn.functional.interpolate
 * (mode='trilinear', align_corners=false) as a separable resize, last axis first, in float64, each
 * value rounded to float32 at the end. C-order buffers, sizes [axis0, axis1, axis2], axis2 fastest.
 */
type Size = readonly [number, number, number];

function taps(srcSize: number, dstSize: number): { lo: number[]; hi: number[]; weight: Float32Array } {
  const scale = srcSize / dstSize;
  const lo: number[] = [];
  const hi: number[] = [];
  const weight = new Float32Array(dstSize);
  for (let t = 0; t < dstSize; t++) {
    const position = Math.max((t + 0.5) * scale - 0.5, 0);
    lo[t] = Math.min(Math.floor(position), srcSize - 1);
    hi[t] = Math.min(lo[t] + 1, srcSize - 1);
    weight[t] = position - lo[t];
  }
  return { lo, hi, weight };
}

/** Resizes the axis of a buffer seen as [outer, length, inner]. */
function resizeAxis(src: Float64Array, outer: number, length: number, inner: number, dstLength: number): Float64Array {
  const { lo, hi, weight } = taps(length, dstLength);
  const dst = new Float64Array(outer * dstLength * inner);
  let o = 0;
  for (let a = 0; a < outer; a++)
    for (let t = 0; t < dstLength; t++)
      for (let c = 0; c < inner; c++, o++) {
        const base = a * length * inner + c;
        dst[o] = src[base + lo[t] * inner] * (1 - weight[t]) + src[base + hi[t] * inner] * weight[t];
      }
  return dst;
}

export function referenceTrilinear(src: Float32Array, srcSize: Size, dstSize: Size): Float32Array {
  const [s0, s1, s2] = srcSize;
  const [d0, d1, d2] = dstSize;
  const alongLast = resizeAxis(Float64Array.from(src), s0 * s1, s2, 1, d2);
  const alongMiddle = resizeAxis(alongLast, s0, s1, d2, d1);
  return Float32Array.from(resizeAxis(alongMiddle, 1, s0, d1 * d2, d0));
}
