import { describe, expect, it } from 'vitest';
import { planeLayout } from '../geometry';
import type { ImageGeometry, Vec3 } from '../types';
import { strokeCenters } from './brushStroke';
import { panBy, stepSlice, windowByDrag, zoomAt, zoomByDrag } from './navigate';

const LPS: ImageGeometry = { size: [40, 30, 20], spacing: [0.5, 1, 3], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
/** The same grid with i towards R and j towards A. */
const RAS: ImageGeometry = { ...LPS, direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] };

describe('brush stroke', () => {
  it('puts a dab about every voxel between two positions, ending on the last', () => {
    expect(strokeCenters([0, 0, 5], [4, 2, 5])).toEqual([
      [1, 0.5, 5],
      [2, 1, 5],
      [3, 1.5, 5],
      [4, 2, 5],
    ]);
    expect(strokeCenters([3, 3, 3], [3, 3, 3])).toEqual([[3, 3, 3]]);
  });
});

describe('navigation', () => {
  it('steps towards superior in axial, anterior in coronal, left in sagittal, whatever the index axes', () => {
    const at: Vec3 = [10, 10, 10];
    expect(stepSlice(LPS, planeLayout(LPS, 'axial'), at, 2)).toEqual([10, 10, 12]);
    expect(stepSlice(LPS, planeLayout(LPS, 'coronal'), at, 1)).toEqual([10, 9, 10]); // +j is posterior
    expect(stepSlice(RAS, planeLayout(RAS, 'coronal'), at, 1)).toEqual([10, 11, 10]); // +j is anterior
    expect(stepSlice(RAS, planeLayout(RAS, 'sagittal'), at, -1)).toEqual([11, 10, 10]); // +i is right
  });

  it('zooms at the pointer: the plane point under it stays under it', () => {
    const frame = { width: 400, height: 200, mmPerPixel: 0.5, center: [10, -20] as [number, number] };
    const transform = { zoom: 1, pan: [0, 0] as [number, number] };
    const zoomed = zoomAt(transform, frame, 2, 300, 50);
    expect(zoomed.zoom).toBe(2);
    // The new centre (middle - pan), with half the mm per pixel, puts the same plane point at (300, 50).
    const middle = [frame.center[0] + transform.pan[0], frame.center[1] + transform.pan[1]];
    const center = [middle[0] - zoomed.pan[0], middle[1] - zoomed.pan[1]];
    const before = [frame.center[0] + (300 - 200) * 0.5, frame.center[1] + (100 - 50) * 0.5];
    expect(center[0] + (300 - 200) * 0.25).toBeCloseTo(before[0]);
    expect(center[1] + (100 - 50) * 0.25).toBeCloseTo(before[1]);
    expect(zoomAt(transform, frame, 1000, 0, 0).zoom).toBe(40);
  });

  it('pans with the pointer and zooms in on an upward drag', () => {
    const start = { zoom: 2, pan: [1, 1] as [number, number] };
    expect(panBy(start, 0.5, 10, 4)).toEqual({ zoom: 2, pan: [6, -1] });
    expect(zoomByDrag(start, -150).zoom).toBeCloseTo(2 * Math.E);
  });

  it('widens the window on a right drag and keeps it positive', () => {
    const start = { width: 400, center: 40 };
    expect(windowByDrag(start, [-1000, 1000], 100, 0)).toEqual({ width: 900, center: 40 });
    expect(windowByDrag(start, [-1000, 1000], 0, 20).center).toBe(140);
    expect(windowByDrag(start, [-1000, 1000], -10_000, 0).width).toBe(5);
  });
});
