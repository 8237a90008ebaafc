import { describe, expect, it } from 'vitest';
import { centredGeometry, makeShapeLabels } from '../phantom';
import { BlockSurfaces, blocksTouchedBy, enclosedVolume, meshBounds, type SurfaceMesh } from './surface-nets';
import { clusterVertices, fitTriangleBudget } from './simplify';
import type { ImageGeometry, Vec3 } from '../types';

function surfaceOf(geometry: ImageGeometry, labels: Uint8Array): SurfaceMesh {
  const surfaces = new BlockSurfaces(geometry);
  const box = { min: [0, 0, 0] as Vec3, max: geometry.size.map((n) => n - 1) as Vec3 };
  surfaces.update({ box, data: labels }, blocksTouchedBy(box, geometry.size));
  return surfaces.surface(1);
}

describe('surface simplification for display (vertex clustering)', () => {
  const geometry = centredGeometry([64, 64, 40], [0.8, 0.8, 1.5], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const ellipsoid = surfaceOf(
    geometry,
    makeShapeLabels(geometry, [{ kind: 'ellipsoid', center: [0, 0, 0], radii: [20, 16, 22], value: 1 }]).data,
  );

  it('keeps the shape at the scale of its cubes with far fewer triangles', () => {
    const simplified = clusterVertices(ellipsoid, 3);
    expect(simplified.triangles.length).toBeLessThan(ellipsoid.triangles.length / 4);
    const [before, after] = [meshBounds(ellipsoid)!, meshBounds(simplified)!];
    for (let a = 0; a < 3; a++) {
      expect(Math.abs(after.min[a] - before.min[a])).toBeLessThan(3);
      expect(Math.abs(after.max[a] - before.max[a])).toBeLessThan(3);
    }
    expect(enclosedVolume(simplified) / enclosedVolume(ellipsoid)).toBeGreaterThan(0.85);
    expect(enclosedVolume(simplified) / enclosedVolume(ellipsoid)).toBeLessThan(1.05);
    // Every vertex is used, and normals stay unit length.
    expect(Math.max(...simplified.triangles)).toBe(simplified.positions.length / 3 - 1);
    for (let v = 0; v < simplified.normals.length; v += 3) {
      expect(Math.hypot(simplified.normals[v], simplified.normals[v + 1], simplified.normals[v + 2])).toBeCloseTo(1, 4);
    }
  });

  it('leaves a surface within the budget as it is, and brings a noisy one under it', () => {
    expect(fitTriangleBudget(ellipsoid, ellipsoid.triangles.length / 3, 1)).toBe(ellipsoid);
    // Salt and pepper: a surface around nearly every voxel.
    let seed = 7;
    const noise = Uint8Array.from({ length: 64 * 64 * 40 }, () => (((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % 3 === 0 ? 1 : 0));
    const noisy = surfaceOf(geometry, noise);
    const budget = 20_000;
    expect(noisy.triangles.length / 3).toBeGreaterThan(10 * budget);
    const fitted = fitTriangleBudget(noisy, budget, 1.6);
    expect(fitted.triangles.length / 3).toBeLessThanOrEqual(budget);
    expect(fitted.triangles.length).toBeGreaterThan(0);
  });
});
