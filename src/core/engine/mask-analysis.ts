/**
 * Mask analysis for prompts and evaluation: Euclidean distance transform, connected
 * components and the most interior voxel. Masks are flat buffers with the first dimension
 * fastest (our i-fastest volumes; a C-order tensor is the same with its dimensions reversed).
 */
import { voxelIndex, voxelOffset, voxelStrides } from '../geometry';
import type { Vec3 } from '../types';

/** One pass of the 1D squared distance transform (Felzenszwalb & Huttenlocher) over a line. */
function distanceLine(f: Float64Array, n: number, spacing2: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  let first = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    if (first < 0) {
      first = q;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let s = 0;
    for (;;) {
      const p = v[k];
      s = (f[q] + spacing2 * q * q - (f[p] + spacing2 * p * p)) / (2 * spacing2 * (q - p));
      if (s > z[k]) break;
      k--; // z[0] is -Infinity, so k stays >= 0
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (first < 0) {
    out.fill(Infinity, 0, n);
    return;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const d = q - v[k];
    out[q] = spacing2 * d * d + f[v[k]];
  }
}

/**
 * Distance (in the units of `spacing`) from every voxel where `mask` is non-zero to the nearest
 * voxel where it is zero; 0 on zero voxels. With `outsideIsBackground`, everything beyond the
 * buffer counts as zero voxels (a mask touching the border is shallow there).
 */
export function distanceTransform(mask: Uint8Array, dims: Vec3, spacing: Vec3 = [1, 1, 1], outsideIsBackground = true): Float32Array {
  const [n0, n1, n2] = dims;
  const total = n0 * n1 * n2;
  const squared = new Float64Array(total);
  for (let o = 0; o < total; o++) squared[o] = mask[o] ? Infinity : 0;
  const longest = Math.max(n0, n1, n2);
  const line = new Float64Array(longest);
  const out = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  const strides = voxelStrides(dims);
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis];
    const stride = strides[axis];
    const spacing2 = spacing[axis] * spacing[axis];
    const [u, w] = [0, 1, 2].filter((a) => a !== axis);
    for (let y = 0; y < dims[w]; y++) {
      for (let x = 0; x < dims[u]; x++) {
        const start = x * strides[u] + y * strides[w];
        for (let q = 0; q < n; q++) line[q] = squared[start + q * stride];
        distanceLine(line, n, spacing2, out, v, z);
        for (let q = 0; q < n; q++) squared[start + q * stride] = out[q];
      }
    }
  }
  const result = new Float32Array(total);
  let o = 0;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      for (let i = 0; i < n0; i++, o++) {
        let d = Math.sqrt(squared[o]);
        if (outsideIsBackground && mask[o]) {
          d = Math.min(
            d,
            (i + 1) * spacing[0],
            (n0 - i) * spacing[0],
            (j + 1) * spacing[1],
            (n1 - j) * spacing[1],
            (k + 1) * spacing[2],
            (n2 - k) * spacing[2],
          );
        }
        result[o] = d;
      }
    }
  }
  return result;
}

/**
 * The most interior voxel of a mask (maximum of its distance transform), or null if empty.
 * Ties (common in boxes and slabs) go to the tied voxel nearest to the ties' centroid, and
 * between two equally near (an even-sized object) to the upper one, as 128 / 2 = 64 is the
 * centre voxel of a patch.
 */
export function mostInteriorVoxel(mask: Uint8Array, dims: Vec3, spacing: Vec3 = [1, 1, 1]): Vec3 | null {
  const distance = distanceTransform(mask, dims, spacing);
  let deepest = 0;
  for (let o = 0; o < distance.length; o++) deepest = Math.max(deepest, distance[o]);
  if (deepest === 0) return null;
  const ties: Vec3[] = [];
  for (let o = 0; o < distance.length; o++) if (distance[o] >= deepest * (1 - 1e-6)) ties.push(voxelIndex(dims, o));
  const centroid = [0, 1, 2].map((a) => ties.reduce((sum, p) => sum + p[a], 0) / ties.length);
  let best = ties[0];
  let bestDistance = Infinity;
  for (const p of ties) {
    const d = (p[0] - centroid[0]) ** 2 + (p[1] - centroid[1]) ** 2 + (p[2] - centroid[2]) ** 2;
    if (d <= bestDistance + 1e-9) {
      best = p;
      bestDistance = Math.min(d, bestDistance);
    }
  }
  return best;
}

export interface Components {
  /** Component number per voxel (1-based), 0 on background. */
  labels: Int32Array;
  /** sizes[n - 1] = voxel count of component n. */
  sizes: number[];
}

/** Connected components of the non-zero voxels, 26-connectivity. */
export function connectedComponents(mask: Uint8Array, dims: Vec3): Components {
  const [n0, n1, n2] = dims;
  const labels = new Int32Array(mask.length);
  const sizes: number[] = [];
  const stack = new Int32Array(mask.length);
  for (let seed = 0; seed < mask.length; seed++) {
    if (!mask[seed] || labels[seed]) continue;
    const label = sizes.length + 1;
    let size = 0;
    let top = 0;
    stack[top++] = seed;
    labels[seed] = label;
    while (top > 0) {
      const o = stack[--top];
      size++;
      const [i, j, k] = voxelIndex(dims, o);
      for (let dk = -1; dk <= 1; dk++) {
        const kk = k + dk;
        if (kk < 0 || kk >= n2) continue;
        for (let dj = -1; dj <= 1; dj++) {
          const jj = j + dj;
          if (jj < 0 || jj >= n1) continue;
          for (let di = -1; di <= 1; di++) {
            const ii = i + di;
            if (ii < 0 || ii >= n0) continue;
            const neighbour = voxelOffset(dims, ii, jj, kk);
            if (mask[neighbour] && !labels[neighbour]) {
              labels[neighbour] = label;
              stack[top++] = neighbour;
            }
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}
