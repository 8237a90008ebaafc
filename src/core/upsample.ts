import type { Vec3 } from './types';

/** Output indices [start, end) of one axis that share their two source taps (lo, hi); the weights are per index (see axisTaps). */
interface TapRun {
  start: number;
  end: number;
  lo: number;
  hi: number;
}

/**
 * PyTorch's linear interpolation taps along one axis (align_corners=false), as runs of output
 * indices with the same source pair, and each output index's weight on the upper tap.
 */
function axisTaps(srcSize: number, dstSize: number): { runs: TapRun[]; weight: Float32Array } {
  const scale = srcSize / dstSize;
  const weight = new Float32Array(dstSize);
  const runs: TapRun[] = [];
  for (let t = 0; t < dstSize; t++) {
    // Clamped at 0 like PyTorch; the upper neighbour is clamped at the last voxel.
    const position = Math.max((t + 0.5) * scale - 0.5, 0);
    const lo = Math.min(Math.floor(position), srcSize - 1);
    weight[t] = position - lo;
    const last = runs.at(-1);
    if (last && last.lo === lo) last.end = t + 1;
    else runs.push({ start: t, end: t + 1, lo, hi: Math.min(lo + 1, srcSize - 1) });
  }
  return { runs, weight };
}

/**
 * The 0/1 mask of where torch.nn.functional.interpolate(src, mode='trilinear', align_corners=false)
 * is above zero, as a float32 value (a positive value too small for float32 counts as zero).
 * Buffers are C-order, sizes [axis0, axis1, axis2] with axis2 fastest, as in the model's
 * [1, 1, D, H, W] tensors.
 *
 * The output is walked in blocks whose voxels share their eight source taps. Each voxel is a
 * weighted mean of those taps, so a block whose taps are all above zero is all 1 and one whose taps
 * are all at or below zero is all 0; only blocks on the mask's edge are interpolated. There each
 * value is computed as the separable resize computes it (last axis first, in float64, then rounded
 * to float32), so the mask is exact, not an approximation.
 */
export function upsampledAboveZero(src: Float32Array, srcSize: Readonly<Vec3>, dstSize: Readonly<Vec3>): Uint8Array {
  const [s0, s1, s2] = srcSize;
  if (src.length !== s0 * s1 * s2) throw new Error(`upsampledAboveZero: ${src.length} values for size ${srcSize.join('x')}`);
  const [d0, d1, d2] = dstSize;
  const out = new Uint8Array(d0 * d1 * d2);
  const [axis0, axis1, axis2] = [0, 1, 2].map((a) => axisTaps(srcSize[a], dstSize[a]));
  const longest = (runs: TapRun[]) => Math.max(...runs.map((r) => r.end - r.start));
  // Per block: the last axis resized for the four (axis0, axis1) taps, then the middle axis for the two axis0 taps.
  const alongLast = new Float64Array(4 * longest(axis2.runs));
  const alongMiddle = new Float64Array(2 * longest(axis1.runs) * longest(axis2.runs));
  const corners = new Float64Array(8);
  for (const r0 of axis0.runs) {
    for (const r1 of axis1.runs) {
      for (const r2 of axis2.runs) {
        let above = 0;
        for (let c = 0; c < 8; c++) {
          const value = src[((c & 4 ? r0.hi : r0.lo) * s1 + (c & 2 ? r1.hi : r1.lo)) * s2 + (c & 1 ? r2.hi : r2.lo)];
          corners[c] = value;
          // Not finite (NaN, or an infinity times a zero weight): interpolated as the float volume would be.
          if (!Number.isFinite(value)) above = -8;
          else if (value > 0) above++;
        }
        if (above === 0) continue;
        if (above === 8) {
          for (let t0 = r0.start; t0 < r0.end; t0++)
            for (let t1 = r1.start; t1 < r1.end; t1++) out.fill(1, (t0 * d1 + t1) * d2 + r2.start, (t0 * d1 + t1) * d2 + r2.end);
          continue;
        }
        const n2 = r2.end - r2.start;
        const n1 = r1.end - r1.start;
        for (let t2 = 0; t2 < n2; t2++) {
          const w = axis2.weight[r2.start + t2];
          for (let pair = 0; pair < 4; pair++) alongLast[pair * n2 + t2] = corners[2 * pair] * (1 - w) + corners[2 * pair + 1] * w;
        }
        for (let t1 = 0; t1 < n1; t1++) {
          const w = axis1.weight[r1.start + t1];
          for (let side = 0; side < 2; side++)
            for (let t2 = 0; t2 < n2; t2++)
              alongMiddle[(side * n1 + t1) * n2 + t2] = alongLast[2 * side * n2 + t2] * (1 - w) + alongLast[(2 * side + 1) * n2 + t2] * w;
        }
        for (let t0 = r0.start; t0 < r0.end; t0++) {
          const w = axis0.weight[t0];
          for (let t1 = 0; t1 < n1; t1++) {
            const row = (t0 * d1 + r1.start + t1) * d2 + r2.start;
            for (let t2 = 0; t2 < n2; t2++) {
              const value = Math.fround(alongMiddle[t1 * n2 + t2] * (1 - w) + alongMiddle[(n1 + t1) * n2 + t2] * w);
              out[row + t2] = +(value > 0);
            }
          }
        }
      }
    }
  }
  return out;
}
