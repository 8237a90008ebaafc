/** The brush and eraser tools' stroke: where a drag puts its dabs (the dab itself: segmentation/brush.ts). */
import type { Vec3 } from '../types';

/** Dab centres from `from` (excluded) to `to` (included), about one voxel apart, so a fast drag leaves no gaps. */
export function strokeCenters(from: Vec3, to: Vec3): Vec3[] {
  const steps = Math.max(1, ...to.map((v, a) => Math.abs(v - from[a])));
  return Array.from({ length: steps }, (_, s) => to.map((v, a) => from[a] + ((v - from[a]) * (s + 1)) / steps) as Vec3);
}
