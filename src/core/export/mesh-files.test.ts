import { describe, expect, it } from 'vitest';
import type { SurfaceMesh } from '../surface/surface-nets';
import { meshToObj, meshToStl } from './mesh-files';

// A tetrahedron, counter-clockwise seen from outside, in LPS.
const TETRA: SurfaceMesh = {
  positions: new Float32Array([0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30]),
  normals: new Float32Array([-1, -1, -1, 1, 0, 0, 0, 1, 0, 0, 0, 1]),
  triangles: new Uint32Array([0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3]),
};

function readStl(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(80, true);
  const triangles: { normal: number[]; vertices: number[][] }[] = [];
  for (let n = 0; n < count; n++) {
    const at = 84 + 50 * n;
    const read = (o: number) => [0, 1, 2].map((a) => view.getFloat32(at + o + 4 * a, true));
    triangles.push({ normal: read(0), vertices: [read(12), read(24), read(36)] });
  }
  return { header: new TextDecoder().decode(bytes.subarray(0, 80)), triangles };
}

describe('mesh files', () => {
  it('writes binary STL in LPS or RAS with the system in the header and outward facet normals', () => {
    const lps = readStl(meshToStl(TETRA, 'Liver', 'LPS'));
    expect(lps.header).toContain('SPACE=LPS');
    expect(lps.triangles).toHaveLength(4);
    expect(lps.triangles[0].normal).toEqual([0, 0, -1]);
    expect(lps.triangles[3].vertices[0]).toEqual([10, 0, 0]);
    const ras = readStl(meshToStl(TETRA, 'Liver', 'RAS'));
    expect(ras.header).toContain('SPACE=RAS');
    expect(ras.triangles[3].vertices[0]).toEqual([-10, -0, 0]);
    expect(ras.triangles[1].normal.map((v) => v + 0)).toEqual([0, 1, 0]);
  });

  it('writes OBJ with the system in a comment and 1-based faces', () => {
    const obj = meshToObj(TETRA, 'Left kidney', 'RAS').split('\n');
    expect(obj[1]).toBe('# coordinates: RAS, units: mm');
    expect(obj).toContain('v -10 0 0');
    expect(obj).toContain('v 0 0 30');
    expect(obj).toContain('f 1//1 3//3 2//2');
    expect(obj.filter((line) => line.startsWith('f '))).toHaveLength(4);
  });
});
