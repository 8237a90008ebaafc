/** Messages between the main thread and the surface worker (surface.worker.ts). */
import type { BlockRange, LabelRegion, SurfaceMesh } from '../core/surface/surface-nets';
import type { ImageGeometry } from '../core/types';

export type SurfaceRequest =
  /** A new labelmap (all surfaces dropped); `generation` tags the replies that belong to it. */
  | { type: 'reset'; geometry: ImageGeometry; generation: number }
  /** Re-mesh `blocks`; `region` holds the labels they read. */
  | { type: 'update'; region: LabelRegion; blocks: BlockRange; generation: number; changedAt: number };

export interface SurfaceReply {
  generation: number;
  /** The new surface of each label whose surface changed (an empty mesh: none left). */
  surfaces: { label: number; surface: SurfaceMesh }[];
  /** `changedAt` of the oldest change this reply includes (main-thread performance.now()). */
  changedAt: number;
}
