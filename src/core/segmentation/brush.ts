import type { Vec3 } from '../types';

/** A sphere in 3D, or a disc in the plane of constant index along `normalAxis` (the slice of a view). */
export type BrushShape = { kind: 'sphere' } | { kind: 'disc'; normalAxis: 0 | 1 | 2 };

export interface BrushDab {
  /** Voxel index (i, j, k) of the centre, snapped to the nearest voxel so the centre voxel is always included. */
  center: Vec3;
  radiusMm: number;
  shape: BrushShape;
}

/**
 * Visits the voxels of a brush dab as row spans (j, k, iFirst, iLast), clipped to the grid.
 * Distances are physical (index offset times spacing), so anisotropic voxels give a round brush in mm.
 */
export function forEachBrushSpan(
  size: Vec3,
  spacing: Vec3,
  dab: BrushDab,
  visit: (j: number, k: number, iFirst: number, iLast: number) => void,
): void {
  const center = dab.center.map(Math.round) as Vec3;
  const flatAxis = dab.shape.kind === 'disc' ? dab.shape.normalAxis : -1;
  const reach = [0, 1, 2].map((a) => (a === flatAxis ? 0 : Math.floor(dab.radiusMm / spacing[a] + 1e-9)));
  const r2 = dab.radiusMm * dab.radiusMm;
  const kFirst = Math.max(0, center[2] - reach[2]);
  const kLast = Math.min(size[2] - 1, center[2] + reach[2]);
  const jFirst = Math.max(0, center[1] - reach[1]);
  const jLast = Math.min(size[1] - 1, center[1] + reach[1]);
  for (let k = kFirst; k <= kLast; k++) {
    const dk = (k - center[2]) * spacing[2];
    for (let j = jFirst; j <= jLast; j++) {
      const dj = (j - center[1]) * spacing[1];
      const remaining = r2 - dk * dk - dj * dj;
      if (remaining < 0) continue;
      const halfWidth = flatAxis === 0 ? 0 : Math.floor(Math.sqrt(remaining) / spacing[0] + 1e-9);
      const iFirst = Math.max(0, center[0] - halfWidth);
      const iLast = Math.min(size[0] - 1, center[0] + halfWidth);
      if (iFirst <= iLast) visit(j, k, iFirst, iLast);
    }
  }
}
