/**
 * Segment surfaces as mesh files, as 3D Slicer exports segments: binary STL and Wavefront OBJ in
 * patient millimetres, in LPS (our world) or RAS (x and y negated), the system named in the STL
 * header and an OBJ comment. Negating two axes is a rotation, so the triangles keep their winding.
 */
import { triangleNormal } from '../geometry';
import type { SurfaceMesh } from '../surface/surface-nets';

export type MeshCoordinates = 'LPS' | 'RAS';

function coordinateSign(coordinates: MeshCoordinates): [number, number, number] {
  return coordinates === 'RAS' ? [-1, -1, 1] : [1, 1, 1];
}

/** Binary STL: 80-byte header, triangle count, then normal + 3 vertices + 2 spare bytes per triangle. */
export function meshToStl(mesh: SurfaceMesh, name: string, coordinates: MeshCoordinates): Uint8Array<ArrayBuffer> {
  const { positions: p, triangles: t } = mesh;
  const count = t.length / 3;
  const bytes = new Uint8Array(84 + 50 * count);
  const header = `SAM-Med3D Web segment "${name}" SPACE=${coordinates} UNITS=mm`;
  bytes.set(new TextEncoder().encode(header).subarray(0, 80));
  const view = new DataView(bytes.buffer);
  view.setUint32(80, count, true);
  const sign = coordinateSign(coordinates);
  let offset = 84;
  for (let n = 0; n < count; n++) {
    // Facet normal from the winding (counter-clockwise seen from outside).
    const normal = triangleNormal(p, t, n);
    const length = Math.hypot(...normal) || 1;
    for (let axis = 0; axis < 3; axis++) view.setFloat32(offset + 4 * axis, (sign[axis] * normal[axis]) / length, true);
    offset += 12;
    for (const vertex of [3 * t[3 * n], 3 * t[3 * n + 1], 3 * t[3 * n + 2]]) {
      for (let axis = 0; axis < 3; axis++) view.setFloat32(offset + 4 * axis, sign[axis] * p[vertex + axis], true);
      offset += 12;
    }
    offset += 2;
  }
  return bytes;
}

/** Wavefront OBJ with vertex normals; the coordinate system is written in a comment. */
export function meshToObj(mesh: SurfaceMesh, name: string, coordinates: MeshCoordinates): string {
  const { positions: p, normals: nrm, triangles: t } = mesh;
  const sign = coordinateSign(coordinates);
  const lines = [`# SAM-Med3D Web segment "${name}"`, `# coordinates: ${coordinates}, units: mm`, `o ${name.replace(/\s+/g, '_')}`];
  const fixed = (value: number) => String(Math.round(value * 1e4) / 1e4);
  for (let v = 0; v < p.length; v += 3) lines.push(`v ${fixed(sign[0] * p[v])} ${fixed(sign[1] * p[v + 1])} ${fixed(p[v + 2])}`);
  for (let v = 0; v < nrm.length; v += 3) lines.push(`vn ${fixed(sign[0] * nrm[v])} ${fixed(sign[1] * nrm[v + 1])} ${fixed(nrm[v + 2])}`);
  for (let n = 0; n < t.length; n += 3) {
    const [a, b, c] = [t[n] + 1, t[n + 1] + 1, t[n + 2] + 1];
    lines.push(`f ${a}//${a} ${b}//${b} ${c}//${c}`);
  }
  return lines.join('\n') + '\n';
}
