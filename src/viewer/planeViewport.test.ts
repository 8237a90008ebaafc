import { describe, expect, it } from 'vitest';
import { planeLayout } from '../core/geometry';
import type { ImageGeometry, Mat3, Vec3 } from '../core/types';
import { clampIndex, indexToScreen, makePlaneViewport, screenToIndex } from './planeViewport';

const FIT = { zoom: 1, pan: [0, 0] as [number, number] };

function geometry(direction: Mat3, size: Vec3 = [40, 30, 20], spacing: Vec3 = [0.5, 1, 3]): ImageGeometry {
  return { size, spacing, origin: [0, 0, 0], direction };
}

describe('plane viewport', () => {
  it('fits the slice with its physical aspect and centres it', () => {
    const g = geometry([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    // Axial: 40 x 0.5 mm wide, 30 x 1 mm high, in a 400 x 200 canvas: height limits the fit.
    const vp = makePlaneViewport(g, planeLayout(g, 'axial'), 400, 200, FIT);
    expect(vp.mmPerPixel).toBeCloseTo((30 / 200) * 1.04);
    const [x, y] = indexToScreen(g, vp, [19.5, 14.5, 0]);
    expect(x).toBeCloseTo(200);
    expect(y).toBeCloseTo(100);
  });

  it('puts patient left on the right and anterior up in the axial view (LPS image)', () => {
    const g = geometry([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const vp = makePlaneViewport(g, planeLayout(g, 'axial'), 300, 300, FIT);
    // +i is towards L: further right on screen; +j is towards P: further down.
    expect(indexToScreen(g, vp, [30, 10, 0])[0]).toBeGreaterThan(indexToScreen(g, vp, [10, 10, 0])[0]);
    expect(indexToScreen(g, vp, [10, 20, 0])[1]).toBeGreaterThan(indexToScreen(g, vp, [10, 10, 0])[1]);
  });

  it('maps screen points back to the voxel they show, for flipped and permuted axes', () => {
    // Index axes: i towards R (flipped x), j towards S, k towards A: a coronal acquisition.
    const g = geometry([-1, 0, 0, 0, 0, 1, 0, -1, 0]);
    for (const plane of ['axial', 'coronal', 'sagittal'] as const) {
      const layout = planeLayout(g, plane);
      const vp = makePlaneViewport(g, layout, 320, 240, { zoom: 2.5, pan: [3, -4] });
      const voxel: Vec3 = [7, 11, 5];
      const [x, y] = indexToScreen(g, vp, voxel);
      expect(screenToIndex(g, vp, x + 0.2, y - 0.2, voxel[layout.normalAxis]), plane).toEqual(voxel);
    }
  });

  it('clamps an index to the image', () => {
    const g = geometry([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(clampIndex(g, [-3, 12, 99])).toEqual([0, 12, 19]);
  });
});
