import { describe, expect, it } from 'vitest';
import { PATCH_STRIDES, modelGrid, modelToSource, samplePatch } from './resample';
import type { ImageGeometry } from './types';

describe('modelGrid', () => {
  it('is the grid of torchio Resample(1.5) followed by ToCanonical', () => {
    // LPS-ordered axes: i and j point to L and P, so canonical RAS+ reverses them.
    const geometry: ImageGeometry = { size: [10, 7, 5], spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const grid = modelGrid(geometry);
    // torchio: ceil(n * spacing / 1.5) voxels; resampled voxel t lies at original index
    // (r - 1) / 2 + r * t with r = 1.5 / spacing (its lower edge on the image's lower edge).
    expect(grid.size).toEqual([7, 5, 7]);
    const start = modelToSource(grid, [0, 0, 0]);
    // Reversed axes start from the last resampled voxel: 0.25 + 1.5 * 6 and 0.25 + 1.5 * 4.
    [9.25, 6.25, -0.125].forEach((v, axis) => expect(start[axis]).toBeCloseTo(v, 12));
    const next = modelToSource(grid, [1, 1, 1]);
    [7.75, 4.75, 0.625].forEach((v, axis) => expect(next[axis]).toBeCloseTo(v, 12));
  });

  it('keeps a single slice on that slice', () => {
    const grid = modelGrid({ size: [1, 40, 40], spacing: [0.5, 0.5, 0.5], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
    expect(grid.size[0]).toBe(1);
    expect(modelToSource(grid, [0, 0, 0])[0]).toBe(0);
  });

  it('pads like SimpleITK: a sample on the far edge of the last voxel is outside', () => {
    // k: 5 voxels of 0.75 mm -> 3 model voxels at original k = 0.5, 2.5 and 4.5 (= n - 0.5).
    const geometry: ImageGeometry = { size: [1, 1, 5], spacing: [1, 1, 0.75], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const grid = modelGrid(geometry);
    expect(grid.size).toEqual([1, 1, 3]);
    const patch = samplePatch({ geometry, data: new Float32Array(5).fill(7) }, grid, [0, 0, 0]);
    expect([0, 1, 2].map((k) => patch[k * PATCH_STRIDES[2]])).toEqual([7, 7, 0]);
  });
});
