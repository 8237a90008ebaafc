/**
 * Simplifying a surface for display when it has more triangles than a view can draw smoothly (a
 * noisy mask, e.g. from a model with random weights or a low threshold, has millions).
 *
 * Method: vertex clustering (Rossignac and Borrel; VTK's vtkQuadricClustering without the quadric
 * placement): space is cut into cubes of a given size, every vertex in a cube merges into one at
 * their mean position with their summed normal, and triangles whose corners fell into fewer than
 * three cubes, or that repeat one already kept, are dropped. It is linear in the mesh size and
 * keeps the shape at the scale of the cube; fine detail below it goes, which is what a view that
 * cannot draw it needs. Exports always use the full surface.
 */
import { triangleNormal } from '../geometry';
import type { SurfaceMesh } from './surface-nets';

/** The mesh with its vertices clustered in cubes of `cellMm` (world millimetres). */
export function clusterVertices(mesh: SurfaceMesh, cellMm: number): SurfaceMesh {
  const { positions, normals, triangles } = mesh;
  const vertexCount = positions.length / 3;
  if (vertexCount === 0) return mesh;
  const min = [Infinity, Infinity, Infinity];
  for (let v = 0; v < positions.length; v += 3) for (let a = 0; a < 3; a++) min[a] = Math.min(min[a], positions[v + a]);

  // Cluster of each vertex, numbered in order of first appearance.
  const clusterOfCube = new Map<number, number>();
  const clusterOf = new Int32Array(vertexCount);
  const sums: number[] = [];
  const counts: number[] = [];
  const normalSums: number[] = [];
  const CUBES = 1 << 20; // per axis: keys stay exact doubles
  for (let v = 0; v < vertexCount; v++) {
    const i = Math.floor((positions[3 * v] - min[0]) / cellMm);
    const j = Math.floor((positions[3 * v + 1] - min[1]) / cellMm);
    const k = Math.floor((positions[3 * v + 2] - min[2]) / cellMm);
    const key = i + CUBES * (j + CUBES * k);
    let cluster = clusterOfCube.get(key);
    if (cluster === undefined) {
      cluster = counts.length;
      clusterOfCube.set(key, cluster);
      sums.push(0, 0, 0);
      normalSums.push(0, 0, 0);
      counts.push(0);
    }
    clusterOf[v] = cluster;
    counts[cluster]++;
    for (let a = 0; a < 3; a++) {
      sums[3 * cluster + a] += positions[3 * v + a];
      normalSums[3 * cluster + a] += normals[3 * v + a];
    }
  }

  const clusterCount = counts.length;
  const kept: number[] = [];
  // Triangles already kept, by their corners rotated to start at the lowest (the winding stays).
  const seen = new Map<number, Set<number>>();
  for (let t = 0; t < triangles.length; t += 3) {
    const a = clusterOf[triangles[t]];
    const b = clusterOf[triangles[t + 1]];
    const c = clusterOf[triangles[t + 2]];
    if (a === b || b === c || a === c) continue;
    const [x, y, z] = a < b && a < c ? [a, b, c] : b < c ? [b, c, a] : [c, a, b];
    const pair = x * clusterCount + y;
    let thirds = seen.get(pair);
    if (!thirds) seen.set(pair, (thirds = new Set()));
    if (thirds.has(z)) continue;
    thirds.add(z);
    kept.push(a, b, c);
  }

  // Only clusters some kept triangle uses become vertices.
  const vertexOfCluster = new Int32Array(clusterCount).fill(-1);
  const outPositions: number[] = [];
  const outNormals: number[] = [];
  const outTriangles = new Uint32Array(kept.length);
  for (let n = 0; n < kept.length; n++) {
    const cluster = kept[n];
    if (vertexOfCluster[cluster] < 0) {
      vertexOfCluster[cluster] = outPositions.length / 3;
      const count = counts[cluster];
      const [nx, ny, nz] = [0, 1, 2].map((a) => normalSums[3 * cluster + a]);
      const length = Math.hypot(nx, ny, nz) || 1;
      outPositions.push(sums[3 * cluster] / count, sums[3 * cluster + 1] / count, sums[3 * cluster + 2] / count);
      outNormals.push(nx / length, ny / length, nz / length);
    }
    outTriangles[n] = vertexOfCluster[cluster];
  }
  return { positions: new Float32Array(outPositions), normals: new Float32Array(outNormals), triangles: outTriangles };
}

/**
 * Clustering a smooth surface of area A with cubes of c mm leaves about 2.6 A / c^2 triangles
 * (surfaces of 4k to 31k triangles, cubes of 1.4 to 8 mm): the first cube tried is the one this
 * predicts for the budget, with a margin, so a surface far over it is clustered once or twice
 * rather than from the smallest cube up. A noisy surface loses more to clustering than this
 * predicts, so it can end well under the budget (salt-and-pepper noise of 440k triangles: 233
 * triangles for a budget of 1000, 14k for 20k).
 */
const TRIANGLES_PER_CUBE_FACE = 3;

/**
 * The mesh itself when it has at most `maxTriangles`, else clustered with cubes grown (from
 * `startCellMm` at least) until it fits (the triangle count falls about with the square of the
 * cube size).
 */
export function fitTriangleBudget(mesh: SurfaceMesh, maxTriangles: number, startCellMm: number): SurfaceMesh {
  let count = mesh.triangles.length / 3;
  if (count <= maxTriangles) return mesh;
  let cellMm = Math.max(startCellMm, Math.sqrt((TRIANGLES_PER_CUBE_FACE * surfaceArea(mesh)) / maxTriangles));
  for (;;) {
    const simplified = clusterVertices(mesh, cellMm);
    count = simplified.triangles.length / 3;
    if (count <= maxTriangles || count === 0) return simplified;
    cellMm *= Math.max(1.25, Math.sqrt(count / maxTriangles));
  }
}

/** Total area of a mesh's triangles (mm^2). */
function surfaceArea({ positions: p, triangles: t }: SurfaceMesh): number {
  let twice = 0;
  for (let n = 0; n < t.length / 3; n++) twice += Math.hypot(...triangleNormal(p, t, n));
  return twice / 2;
}
