import { describe, expect, it } from 'vitest';
import { boxVoxelCount, encodeRuns, encodeRunsIfSmaller, runBytes, slabsNearest } from './region';

describe('slabsNearest', () => {
  const box = { min: [10, 20, 5] as [number, number, number], max: [19, 29, 44] as [number, number, number] };

  it('cuts a box into k slabs within the voxel limit, the given slice alone first, then outwards, covering it once', () => {
    const slabs = slabsNearest(box, 30, 1000);
    // 100 voxels a slice: 10 slices a slab.
    expect(slabs.map((s) => [s.min[2], s.max[2]])).toEqual([
      [30, 30],
      [31, 40],
      [20, 29],
      [41, 44],
      [10, 19],
      [5, 9],
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
    // A slab sent by the worker is not cut again where the click's slice lies outside it.
    expect(slabsNearest({ min: [10, 20, 31], max: [19, 29, 40] }, 30, 1000)).toHaveLength(1);
  });
});

describe('encodeRunsIfSmaller', () => {
  let seed = 5;
  const noise = (length: number) => Uint8Array.from({ length }, () => (seed = (seed * 16807) % 2147483647) % 2);

  it('codes a labelmap-like buffer and refuses noise, also noise that starts after the first probe', () => {
    const compact = new Uint8Array(1 << 20);
    compact.fill(2, 1000, 300_000);
    expect(encodeRunsIfSmaller(compact)).toEqual(encodeRuns(compact));
    expect(encodeRunsIfSmaller(noise(1 << 20))).toBeNull();
    // Compact for the probe, noise after it: the whole coding is larger than the data.
    const late = new Uint8Array(1 << 20);
    late.set(noise(900_000), (1 << 20) - 900_000);
    expect(runBytes(encodeRuns(late))).toBeGreaterThan(late.length);
    expect(encodeRunsIfSmaller(late)).toBeNull();
  });
});
