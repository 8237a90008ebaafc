import { describe, expect, it } from 'vitest';
import { dice, diceAuc, firstClick, nextClick, normalizedSurfaceDice } from '../src/core/engine/evaluation';
import { connectedComponents, distanceTransform } from '../src/core/engine/mask-analysis';
import type { Vec3 } from '../src/core/types';

/** A mask of `dims` (i fastest) with the boxes [lo, hi] (inclusive) set. */
function boxes(dims: Vec3, ...list: [Vec3, Vec3][]): Uint8Array {
  const mask = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (const [lo, hi] of list) {
    for (let k = lo[2]; k <= hi[2]; k++)
      for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) mask[i + dims[0] * (j + dims[1] * k)] = 1;
  }
  return mask;
}

describe('distanceTransform', () => {
  it('equals brute force on a random mask with anisotropic spacing', () => {
    const dims: Vec3 = [9, 7, 6];
    const spacing: Vec3 = [0.7, 1.3, 2.5];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const mask = Uint8Array.from({ length: 9 * 7 * 6 }, () => (random() < 0.8 ? 1 : 0));
    for (const outsideIsBackground of [true, false]) {
      const distance = distanceTransform(mask, dims, spacing, outsideIsBackground);
      for (let o = 0; o < mask.length; o++) {
        const [i, j, k] = [o % 9, Math.floor(o / 9) % 7, Math.floor(o / 63)];
        let best = mask[o] ? Infinity : 0;
        for (let p = 0; p < mask.length && mask[o]; p++) {
          if (mask[p]) continue;
          const [x, y, z] = [p % 9, Math.floor(p / 9) % 7, Math.floor(p / 63)];
          best = Math.min(best, Math.hypot((x - i) * spacing[0], (y - j) * spacing[1], (z - k) * spacing[2]));
        }
        if (outsideIsBackground && mask[o]) {
          best = Math.min(best, (i + 1) * 0.7, (9 - i) * 0.7, (j + 1) * 1.3, (7 - j) * 1.3, (k + 1) * 2.5, (6 - k) * 2.5);
        }
        expect(distance[o]).toBeCloseTo(best, 5);
      }
    }
  });
});

describe('connectedComponents', () => {
  it('joins diagonal neighbours (26-connectivity) and separates distant blobs', () => {
    const dims: Vec3 = [10, 10, 10];
    const mask = boxes(
      dims,
      [
        [0, 0, 0],
        [1, 1, 1],
      ],
      [
        [2, 2, 2],
        [2, 2, 2],
      ],
      [
        [6, 6, 6],
        [8, 8, 8],
      ],
    );
    const { sizes } = connectedComponents(mask, dims);
    expect(sizes).toEqual([9, 27]);
  });
});

describe('click simulator', () => {
  const dims: Vec3 = [20, 16, 12];
  const spacing: Vec3 = [1, 1, 1];
  const truth = boxes(dims, [
    [3, 2, 2],
    [13, 12, 8],
  ]);

  it('clicks the most interior voxel of the object first', () => {
    expect(firstClick(truth, dims, spacing)).toEqual({ point: [8, 7, 5], positive: true });
    expect(firstClick(new Uint8Array(truth.length), dims, spacing)).toBeNull();
  });

  it('uses the spacing: the interior of an anisotropic object moves to where it is thickest in mm', () => {
    // Two slabs joined: [0..3] thin in i, [4..15] thick; with 3 mm along i the thin part is thicker in mm.
    const d: Vec3 = [6, 16, 9];
    const mask = boxes(d, [
      [0, 0, 0],
      [5, 15, 8],
    ]);
    const click = firstClick(mask, d, [3, 1, 1]) as { point: Vec3 };
    expect(click.point[1]).toBeGreaterThanOrEqual(4);
    expect(click.point[1]).toBeLessThanOrEqual(11);
  });

  it('adds a positive click inside the largest missed part', () => {
    // Prediction misses a 5x5x5 corner (largest error) and a 2x2x2 corner.
    const prediction = truth.slice();
    const missedLarge = boxes(dims, [
      [9, 8, 4],
      [13, 12, 8],
    ]);
    const missedSmall = boxes(dims, [
      [3, 2, 2],
      [4, 3, 3],
    ]);
    for (let o = 0; o < truth.length; o++) if (missedLarge[o] || missedSmall[o]) prediction[o] = 0;
    expect(nextClick(prediction, truth, dims, spacing)).toEqual({ point: [11, 10, 6], positive: true });
  });

  it('adds a negative click inside the largest false positive', () => {
    const prediction = boxes(
      dims,
      [
        [3, 2, 2],
        [13, 12, 8],
      ],
      [
        [15, 3, 3],
        [19, 9, 9],
      ],
    );
    const click = nextClick(prediction, truth, dims, spacing);
    expect(click?.positive).toBe(false);
    expect(click?.point).toEqual([17, 6, 6]);
  });

  it('has nothing to click when the prediction is right', () => {
    expect(nextClick(truth.slice(), truth, dims, spacing)).toBeNull();
  });
});

describe('metrics', () => {
  const dims: Vec3 = [30, 30, 30];
  const truth = boxes(dims, [
    [5, 5, 5],
    [20, 20, 20],
  ]);

  it('Dice', () => {
    expect(dice(truth, truth)).toBe(1);
    const half = boxes(dims, [
      [5, 5, 5],
      [20, 20, 12],
    ]);
    expect(dice(half, truth)).toBeCloseTo((2 * 8) / (8 + 16), 10);
  });

  it('Dice AUC over clicks', () => {
    expect(diceAuc([0.5, 1, 1])).toBeCloseTo(0.875, 10);
    expect(diceAuc([0.8])).toBe(0.8);
  });

  it('NSD at 2 mm: 1 within the tolerance, lower beyond it', () => {
    const shifted = (by: number) =>
      boxes(dims, [
        [5 + by, 5, 5],
        [20 + by, 20, 20],
      ]);
    expect(normalizedSurfaceDice(truth, truth, dims, [1, 1, 1], 2)).toBe(1);
    expect(normalizedSurfaceDice(shifted(2), truth, dims, [1, 1, 1], 2)).toBe(1);
    const far = normalizedSurfaceDice(shifted(5), truth, dims, [1, 1, 1], 2);
    expect(far).toBeLessThan(0.95);
    expect(far).toBeGreaterThan(0.5);
    // the same shift in voxels is within tolerance when voxels are 0.3 mm
    expect(normalizedSurfaceDice(shifted(5), truth, dims, [0.3, 1, 1], 2)).toBe(1);
  });
});
