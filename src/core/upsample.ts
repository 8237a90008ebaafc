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
 * the model's [1, 1, D, H, W] tensors.
 */
export function upsampleTrilinear(src: Float32Array, srcSize: Readonly<Vec3>, dstSize: Readonly<Vec3>): Float32Array {
  const [s0, s1, s2] = srcSize;
  if (src.length !== s0 * s1 * s2) throw new Error(`upsampleTrilinear: ${src.length} values for size ${srcSize.join('x')}`);
  const [a, b, c] = [axisTaps(s0, dstSize[0]), axisTaps(s1, dstSize[1]), axisTaps(s2, dstSize[2])];
  const out = new Float32Array(dstSize[0] * dstSize[1] * dstSize[2]);
  const plane = s1 * s2;
  let o = 0;
  for (let i = 0; i < dstSize[0]; i++) {
    const i0 = a.lo[i] * plane, i1 = a.hi[i] * plane, wi = a.weight[i];
    for (let j = 0; j < dstSize[1]; j++) {
      const j0 = b.lo[j] * s2, j1 = b.hi[j] * s2, wj = b.weight[j];
      for (let k = 0; k < dstSize[2]; k++, o++) {
        const k0 = c.lo[k], k1 = c.hi[k], wk = c.weight[k];
        const v00 = src[i0 + j0 + k0] * (1 - wk) + src[i0 + j0 + k1] * wk;
        const v01 = src[i0 + j1 + k0] * (1 - wk) + src[i0 + j1 + k1] * wk;
        const v10 = src[i1 + j0 + k0] * (1 - wk) + src[i1 + j0 + k1] * wk;
        const v11 = src[i1 + j1 + k0] * (1 - wk) + src[i1 + j1 + k1] * wk;
        out[o] = (v00 * (1 - wj) + v01 * wj) * (1 - wi) + (v10 * (1 - wj) + v11 * wj) * wi;
      }
    }
  }
  return out;
}
