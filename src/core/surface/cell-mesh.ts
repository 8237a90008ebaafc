import type { SurfaceMesh } from './surface-nets';

/**
 * A surface as a view draws it: the triangles as polygon cells (3, then the three vertex indices,
 * per triangle: VTK's cell-array layout), so the page hands the worker's arrays to the renderer
 * as they are.
 */
export interface CellMesh {
  positions: Float32Array;
  normals: Float32Array;
  polys: Uint32Array;
}

export function toCellMesh({ positions, normals, triangles }: SurfaceMesh): CellMesh {
  const polys = new Uint32Array((triangles.length / 3) * 4);
  for (let t = 0, p = 0; t < triangles.length; t += 3, p += 4) {
    polys[p] = 3;
    polys[p + 1] = triangles[t];
    polys[p + 2] = triangles[t + 1];
    polys[p + 3] = triangles[t + 2];
  }
  return { positions, normals, polys };
}

export function cellCount(mesh: CellMesh): number {
  return mesh.polys.length / 4;
}
