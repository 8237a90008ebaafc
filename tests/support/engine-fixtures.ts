/** Geometries, phantoms and the oracle model shared by the engine and CLI tests. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { worldToIndex } from '../../src/core/geometry';
import type { ImageGeometry, Mat3, Vec3 } from '../../src/core/types';

export { centredGeometry } from '../../src/core/phantom';

/** The oracle ONNX pair (models/oracle.py), generated on first use. */
export function oracleModelDir(): string {
  const dir = path.resolve('.cache/models/oracle');
  if (!existsSync(path.join(dir, 'decoder.onnx'))) execFileSync('/usr/bin/python3', ['models/oracle.py', dir], { stdio: 'inherit' });
  return dir;
}

/** Rotation Rz(z) * Rx(x), column-major. */
export function rotation(angleZ: number, angleX: number): Mat3 {
  const [cz, sz, cx, sx] = [Math.cos(angleZ), Math.sin(angleZ), Math.cos(angleX), Math.sin(angleX)];
  return [cz, sz, 0, -sz * cx, cz * cx, sx, sz * sx, -cz * sx, cx];
}

export const LPS: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
export const RAS: Mat3 = [-1, 0, 0, 0, -1, 0, 0, 0, 1];

/** A 300 mm long curved tube (polyline through a sine in y and a cosine in z) in world mm. */
export function curvedTubePoints(): Vec3[] {
  const points: Vec3[] = [];
  for (let x = -135; x <= 135; x += 5) points.push([x, 35 * Math.sin(x / 50), 25 * Math.cos(x / 70)]);
  return points;
}

export function tubeLength(points: Vec3[]): number {
  let length = 0;
  for (let n = 1; n < points.length; n++) length += Math.hypot(...([0, 1, 2].map((a) => points[n][a] - points[n - 1][a]) as Vec3));
  return length;
}

/** Voxel index (rounded) of a world position. */
export function voxelAt(g: ImageGeometry, world: Vec3): Vec3 {
  return worldToIndex(g, world).map(Math.round) as Vec3;
}
