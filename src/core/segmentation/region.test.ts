import { describe, expect, it } from 'vitest';
import { boxVoxelCount, slabsNearest } from './region';

describe('slabsNearest', () => {
  const box = { min: [10, 20, 5] as [number, number, number], max: [19, 29, 44] as [number, number, number] };

  it('cuts a box into k slabs within the voxel limit, nearest the given slice first, covering it once', () => {
    const slabs = slabsNearest(box, 30, 1000);
    // 100 voxels a slice: 10 slices a slab.
    expect(slabs.map((s) => [s.min[2], s.max[2]])).toEqual([
      [25, 34],
      [35, 44],
      [15, 24],
      [5, 14],
    ]);
    for (const slab of slabs) {
      expect(slab.min.slice(0, 2)).toEqual([10, 20]);
      expect(slab.max.slice(0, 2)).toEqual([19, 29]);
      expect(boxVoxelCount(slab)).toBeLessThanOrEqual(1000);
    }
    expect(slabs.reduce((n, s) => n + boxVoxelCount(s), 0)).toBe(boxVoxelCount(box));
  });

  it('keeps at least one slice a slab and takes a slice outside the box as its nearest end', () => {
    expect(slabsNearest(box, 30, 10)).toHaveLength(40);
    expect(slabsNearest(box, 100, 10)[0].min[2]).toBe(44);
    expect(slabsNearest(box, 0, 1 << 21)).toEqual([box]);
  });
});
