import { describe, expect, it } from 'vitest';
import { indexToWorld } from '../src/core/geometry';
import {
  PATCH_SIZE,
  modelGrid,
  modelToSource,
  pastePatchMask,
  patchFootprint,
  samplePatch,
  sourceToModel,
} from '../src/core/resample';
import type { ImageGeometry, Mat3, Vec3 } from '../src/core/types';

const N = PATCH_SIZE;

function rotation(angleZ: number, angleX: number): Mat3 {
  const [cz, sz, cx, sx] = [Math.cos(angleZ), Math.sin(angleZ), Math.cos(angleX), Math.sin(angleX)];
  // Rz * Rx, column-major
  return [cz, sz, 0, -sz * cx, cz * cx, sx, sz * sx, -cz * sx, cx];
}

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
    for (let k = 0, o = 0; k < g.size[2]; k++) for (let j = 0; j < g.size[1]; j++) for (let i = 0; i < g.size[0]; i++, o++) data[o] = f(world(g, [i, j, k]));
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
    for (let a = 0, o = 0; a < N; a++) for (let b = 0; b < N; b++) for (let c = 0; c < N; c++, o++) patchMask[o] = (a + 2 * b + 3 * c) % 5 < 2 ? 1 : 0;
    const target = new Uint8Array(g.size[0] * g.size[1] * g.size[2]).fill(7);
    pastePatchMask(target, grid, patchFootprint(grid, offset), patchMask);
    let inside = 0;
    for (let k = 0, o = 0; k < g.size[2]; k++) {
      for (let j = 0; j < g.size[1]; j++) {
        for (let i = 0; i < g.size[0]; i++, o++) {
          const [a, b, c] = sourceToModel(grid, [i, j, k]).map((v, axis) => Math.round(v) - offset[axis]);
          if ([a, b, c].every((v) => v >= 0 && v < N)) {
            expect(target[o]).toBe(patchMask[(a * N + b) * N + c]);
            inside++;
          } else {
            expect(target[o]).toBe(7);
          }
        }
      }
    }
    expect(inside).toBeGreaterThan(10000);
  });
});
