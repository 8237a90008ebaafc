import { describe, expect, it } from 'vitest';
import { cellCount, mergeCellMeshes, type CellMesh } from './cell-mesh';

const triangle = (z: number): CellMesh => ({
  positions: new Float32Array([0, 0, z, 1, 0, z, 0, 1, z]),
  normals: new Float32Array([0, 0, 1, 0, 0, 1, 0, 0, 1]),
  polys: new Uint32Array([3, 0, 1, 2]),
});

describe('mergeCellMeshes', () => {
  it('keeps each cell on its own vertices', () => {
    const quad: CellMesh = {
      positions: new Float32Array([0, 0, 5, 1, 0, 5, 1, 1, 5, 0, 1, 5]),
      normals: new Float32Array(12).fill(1),
      polys: new Uint32Array([3, 0, 1, 2, 3, 0, 2, 3]),
    };
    const merged = mergeCellMeshes([triangle(1), quad, triangle(9)]);
    expect(cellCount(merged)).toBe(4);
    expect(Array.from(merged.polys)).toEqual([3, 0, 1, 2, 3, 3, 4, 5, 3, 3, 5, 6, 3, 7, 8, 9]);
    // The last triangle's vertices are its own, at z = 9.
    expect(Array.from(merged.positions.subarray(7 * 3))).toEqual([0, 0, 9, 1, 0, 9, 0, 1, 9]);
    expect(Array.from(merged.normals.subarray(3 * 3, 7 * 3))).toEqual(new Array(12).fill(1));
  });

  it('of no meshes is empty', () => {
    const merged = mergeCellMeshes([]);
    expect([merged.positions.length, merged.normals.length, merged.polys.length]).toEqual([0, 0, 0]);
  });
});
