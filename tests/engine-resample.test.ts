import { describe, expect, it } from 'vitest';
import { indexToWorld } from '../src/core/geometry';
import {
  PATCH_SIZE,
  composePatchMasks,
  modelGrid,
  modelToSource,
  nearestPatchBox,
  pastePatchMask,
  patchFootprint,
  samplePatch,
  sourceToModel,
} from '../src/core/resample';
import type { ImageGeometry, Mat3, Vec3 } from '../src/core/types';
import { rotation } from './support/engine-fixtures';

const N = PATCH_SIZE;

/** Oblique, anisotropic, with index axes permuted relative to the patient (i ~ S, j ~ L, k ~ P). */
const OBLIQUE_PERMUTED: ImageGeometry = {
  size: [70, 90, 50],
  spacing: [2.2, 0.9, 3],
  origin: [-40, 25, 12],
  direction: (() => {
    const r = rotation(0.3, 0.2);
    const column = (c: number): Vec3 => [r[3 * c], r[3 * c + 1], r[3 * c + 2]];
    return [...column(2), ...column(0), ...column(1)] as Mat3;
  })(),
};

const world = (g: ImageGeometry, ijk: Vec3) => indexToWorld(g, ijk);

describe('model grid', () => {
  it('maps model axes to R, A, S in 1.5 mm steps', () => {
    const grid = modelGrid(OBLIQUE_PERMUTED);
    const origin = world(OBLIQUE_PERMUTED, modelToSource(grid, [0, 0, 0]));
    const steps = [0, 1, 2].map((c) => {
      const g: Vec3 = [0, 0, 0];
      g[c] = 1;
      const p = world(OBLIQUE_PERMUTED, modelToSource(grid, g));
      return [p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]];
    });
    for (const step of steps) expect(Math.hypot(...step)).toBeCloseTo(1.5, 6);
    // LPS world: R = -x, A = -y, S = +z; each model axis mostly along its anatomical axis.
    expect(steps[0][0]).toBeLessThan(-1.2);
    expect(steps[1][1]).toBeLessThan(-1.2);
    expect(steps[2][2]).toBeGreaterThan(1.2);
    // Same physical extent, rounded to whole model voxels.
    expect(grid.size).toEqual([Math.round((90 * 0.9) / 1.5), Math.round((50 * 3) / 1.5), Math.round((70 * 2.2) / 1.5)]);
  });

  it('round-trips between original and model indices', () => {
    const grid = modelGrid(OBLIQUE_PERMUTED);
    const p: Vec3 = [12.25, 40, 7.5];
    const back = modelToSource(grid, sourceToModel(grid, p));
    back.forEach((v, a) => expect(v).toBeCloseTo(p[a], 9));
  });
});

describe('samplePatch', () => {
  it('samples a world-linear image exactly, in C-order with model axis 0 slowest', () => {
    const g = OBLIQUE_PERMUTED;
    const f = (w: Vec3) => 0.5 * w[0] - 0.25 * w[1] + 2 * w[2] + 1000;
    const data = new Float32Array(g.size[0] * g.size[1] * g.size[2]);
    for (let k = 0, o = 0; k < g.size[2]; k++)
      for (let j = 0; j < g.size[1]; j++) for (let i = 0; i < g.size[0]; i++, o++) data[o] = f(world(g, [i, j, k]));
    const grid = modelGrid(g);
    const offset: Vec3 = [-10, 5, 20];
    const patch = samplePatch({ geometry: g, data }, grid, offset);
    let checked = 0;
    let padded = 0;
    for (let a = 0; a < N; a += 7) {
      for (let b = 0; b < N; b += 5) {
        for (let c = 0; c < N; c += 3) {
          const source = modelToSource(grid, [offset[0] + a, offset[1] + b, offset[2] + c]);
          const value = patch[(a * N + b) * N + c];
          const inside = source.every((v, axis) => v >= 0 && v <= g.size[axis] - 1);
          const outside = source.some((v, axis) => v < -0.5 || v > g.size[axis] - 0.5);
          if (inside) {
            expect(value).toBeCloseTo(f(world(g, source)), 1);
            checked++;
          } else if (outside) {
            expect(value).toBe(0);
            padded++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(padded).toBeGreaterThan(1000);
  });
});

describe('pastePatchMask', () => {
  it('writes each original voxel inside the patch from its nearest patch voxel, and nothing else', () => {
    const g = OBLIQUE_PERMUTED;
    const grid = modelGrid(g);
    const offset: Vec3 = [-20, 30, 10];
    // A patch mask that encodes its own coordinates: voxel set where (a + 2b + 3c) % 5 < 2.
    const patchMask = new Uint8Array(N ** 3);
    for (let a = 0, o = 0; a < N; a++)
      for (let b = 0; b < N; b++) for (let c = 0; c < N; c++, o++) patchMask[o] = (a + 2 * b + 3 * c) % 5 < 2 ? 1 : 0;
    const target = new Uint8Array(g.size[0] * g.size[1] * g.size[2]).fill(7);
    pastePatchMask(target, grid, patchFootprint(grid, offset), patchMask);
    let inside = 0;
    for (let k = 0, o = 0; k < g.size[2]; k++) {
      for (let j = 0; j < g.size[1]; j++) {
        for (let i = 0; i < g.size[0]; i++, o++) {
          const [a, b, c] = sourceToModel(grid, [i, j, k]).map((v, axis) => Math.round(v) - offset[axis]);
          const covered = [a, b, c].every((v) => v >= 0 && v < N);
          const expected = covered ? patchMask[(a * N + b) * N + c] : 7;
          if (covered) inside++;
          if (target[o] !== expected) expect(target[o], `voxel ${i},${j},${k}`).toBe(expected);
        }
      }
    }
    expect(inside).toBeGreaterThan(10000);
  });
});

describe('composePatchMasks', () => {
  it('takes each voxel from the covering patch whose centre is nearest', () => {
    // Finer than the model grid along every axis, so rows and slices repeat.
    const g: ImageGeometry = {
      size: [180, 80, 140],
      spacing: [0.7, 1.1, 0.6],
      origin: [5, -3, 2],
      direction: [0, 1, 0, -1, 0, 0, 0, 0, 1],
    };
    const grid = modelGrid(g);
    const offsets: Vec3[] = [
      [-40, -60, -70],
      [24, -60, -70],
      [-10, -80, -60],
    ];
    // Patch p's mask holds p + 1 where (a + b + c) is even: both which patch and which voxel are checked.
    const patches = offsets.map((offset, p) => ({
      offset,
      footprint: patchFootprint(grid, offset),
      mask: Uint8Array.from({ length: N ** 3 }, (_, o) =>
        (Math.floor(o / (N * N)) + (Math.floor(o / N) % N) + (o % N)) % 2 === 0 ? p + 1 : 0,
      ),
    }));
    const target = new Uint8Array(g.size[0] * g.size[1] * g.size[2]);
    composePatchMasks(target, grid, patches);
    let covered = 0;
    for (let k = 0, o = 0; k < g.size[2]; k++) {
      for (let j = 0; j < g.size[1]; j++) {
        for (let i = 0; i < g.size[0]; i++, o++) {
          const model = sourceToModel(grid, [i, j, k]).map(Math.round);
          let expected = 0;
          let best = Infinity;
          patches.forEach(({ offset, mask }) => {
            const local = model.map((m, c) => m - offset[c]);
            if (!local.every((v) => v >= 0 && v < N)) return;
            const distance = local.reduce((sum, v) => sum + (v - (N - 1) / 2) ** 2, 0);
            if (distance < best) {
              best = distance;
              expected = mask[(local[0] * N + local[1]) * N + local[2]];
            }
          });
          if (best < Infinity) covered++;
          if (target[o] !== expected) expect(target[o], `voxel ${i},${j},${k}`).toBe(expected);
        }
      }
    }
    expect(covered).toBeGreaterThan(1_000_000);

    // Restricted to a box (what one click may change), it writes the same values there and nothing else.
    const within = { min: [30, 10, 20] as Vec3, max: [150, 60, 90] as Vec3 };
    const restricted = new Uint8Array(target.length).fill(9);
    // Outside the patches' joint box, composing leaves voxels as they are.
    const jointLo = [0, 1, 2].map((a) => Math.min(...patches.map((p) => p.footprint.lo[a])));
    const jointHi = [0, 1, 2].map((a) => Math.max(...patches.map((p) => p.footprint.hi[a])));
    composePatchMasks(restricted, grid, patches, within);
    for (let k = 0, o = 0; k < g.size[2]; k++) {
      for (let j = 0; j < g.size[1]; j++) {
        for (let i = 0; i < g.size[0]; i++, o++) {
          const inside = [i, j, k].every((v, a) => v >= Math.max(within.min[a], jointLo[a]) && v <= Math.min(within.max[a], jointHi[a]));
          const expected = inside ? target[o] : 9;
          if (restricted[o] !== expected) expect(restricted[o], `voxel ${i},${j},${k}`).toBe(expected);
        }
      }
    }
  });
});

describe('nearestPatchBox', () => {
  // Oblique and finer than the model grid, index axes permuted: model axis c is not index axis c.
  const g: ImageGeometry = { ...OBLIQUE_PERMUTED, size: [150, 260, 110], spacing: [1.3, 0.8, 1.9] };
  const grid = modelGrid(g);
  const at = (offset: Vec3, value: number) => ({
    offset,
    footprint: patchFootprint(grid, offset),
    mask: new Uint8Array(N ** 3).fill(value),
  });
  const base: Vec3 = [-20, -30, -25];
  const shifted = (axis: number, by: number) => base.map((v, c) => (c === axis ? v + by : v)) as Vec3;
  const voxels = g.size[0] * g.size[1] * g.size[2];

  /** The bounding box of the voxels whose composed value changes when patch `index` gets another mask. */
  function changedBox(patches: ReturnType<typeof at>[], index: number): { min: Vec3; max: Vec3 } | null {
    const before = new Uint8Array(voxels);
    composePatchMasks(before, grid, patches);
    const after = new Uint8Array(voxels);
    composePatchMasks(
      after,
      grid,
      patches.map((p, n) => (n === index ? { ...p, mask: new Uint8Array(N ** 3).fill(9) } : p)),
    );
    const min: Vec3 = [Infinity, Infinity, Infinity];
    const max: Vec3 = [-1, -1, -1];
    for (let k = 0, o = 0; k < g.size[2]; k++) {
      for (let j = 0; j < g.size[1]; j++) {
        for (let i = 0; i < g.size[0]; i++, o++) {
          if (before[o] === after[o]) continue;
          [i, j, k].forEach((v, a) => ((min[a] = Math.min(min[a], v)), (max[a] = Math.max(max[a], v))));
        }
      }
    }
    return max[0] < 0 ? null : { min, max };
  }

  /** The box holds every voxel the patch can change. */
  function expectHolds(patches: ReturnType<typeof at>[], index: number): void {
    const box = nearestPatchBox(grid, patches, index);
    const changed = changedBox(patches, index);
    if (!changed) return;
    expect(box, `patch ${index}`).not.toBeNull();
    for (let a = 0; a < 3; a++) {
      expect(box!.min[a], `patch ${index} axis ${a}`).toBeLessThanOrEqual(changed.min[a]);
      expect(box!.max[a], `patch ${index} axis ${a}`).toBeGreaterThanOrEqual(changed.max[a]);
    }
  }

  it('is exactly where a patch shows among face neighbours at 50% overlap (ties to the earlier patch)', () => {
    // Neighbours on both sides along model axis 0, one on each other axis; the later ones are
    // each other's diagonal neighbours, which cut nothing: their boxes only hold their changes.
    const patches = [at(base, 1), at(shifted(0, 64), 2), at(shifted(0, -64), 3), at(shifted(1, 64), 4), at(shifted(2, 64), 5)];
    const first = nearestPatchBox(grid, patches, 0)!;
    expect(first).toEqual(changedBox(patches, 0));
    for (let index = 1; index < patches.length; index++) expectHolds(patches, index);
    // Cut along each axis its neighbours lie on (to about half, where the grid's edge does not cut it first).
    const { lo, hi } = patches[0].footprint;
    for (let c = 0; c < 3; c++) {
      const a = grid.sourceAxis[c];
      expect((first.max[a] - first.min[a] + 1) / (hi[a] - lo[a] + 1), `model axis ${c}`).toBeLessThan(0.8);
    }
  });

  it('holds every voxel a patch can change when patches are placed anyhow', () => {
    const patches = [at(base, 1), at([44, 34, -25], 2), at([-3, -30, 10], 3), at([-20, -90, 30], 4), at(shifted(1, 1), 5)];
    for (let index = 0; index < patches.length; index++) expectHolds(patches, index);
  });
});
