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

/** The meshes as one: vertices after each other, each mesh's cells pointing at its own vertices. */
export function mergeCellMeshes(meshes: readonly CellMesh[]): CellMesh {
  const total = (key: keyof CellMesh) => meshes.reduce((sum, mesh) => sum + mesh[key].length, 0);
  const merged: CellMesh = {
    positions: new Float32Array(total('positions')),
    normals: new Float32Array(total('normals')),
    polys: new Uint32Array(total('polys')),
  };
  let vertices = 0;
  let cells = 0;
  for (const mesh of meshes) {
    merged.positions.set(mesh.positions, vertices * 3);
    merged.normals.set(mesh.normals, vertices * 3);
    const { polys } = mesh;
    for (let p = 0; p < polys.length; p += 4) {
      merged.polys[cells + p] = 3;
      merged.polys[cells + p + 1] = polys[p + 1] + vertices;
      merged.polys[cells + p + 2] = polys[p + 2] + vertices;
      merged.polys[cells + p + 3] = polys[p + 3] + vertices;
    }
    vertices += mesh.positions.length / 3;
    cells += polys.length;
  }
  return merged;
}
