/** Messages between the main thread and the surface worker (surface.worker.ts). */
import type { ModelRunFlags } from '../core/busy-flag';
import type { CellMesh } from '../core/surface/cell-mesh';
import type { BlockRange, ChunkKey, LabelRegion, SurfaceMesh } from '../core/surface/surface-nets';
import type { ImageGeometry } from '../core/types';

export type SurfaceRequest =
  /**
   * A new labelmap (all surfaces dropped); `generation` tags the replies that belong to it.
   * `labels`: the labelmap itself where it is shared memory (updates then carry no labels).
   */
  | { type: 'reset'; geometry: ImageGeometry; generation: number; labels: Uint8Array | null }
  /** Re-mesh `blocks`; `region` holds the labels they read (null: read the shared labelmap). */
  | { type: 'update'; region: LabelRegion | null; blocks: BlockRange; generation: number; changedAt: number }
  /** The full-detail surface of a label (for an export), answered with the same `id`. */
  | { type: 'surface'; label: number; id: number }
  /** Raised while the inference worker's decoder or encoder runs: meshing keeps out of their way. */
  | { type: 'model-runs'; flags: ModelRunFlags };

/** A label's surface within one chunk as a view draws it (an empty mesh: none left there). */
export interface SurfaceChunk extends ChunkKey {
  surface: CellMesh;
  /** A coarser mesh drawn while the camera moves or surfaces are arriving; null: `surface` is coarse enough. */
  coarse: CellMesh | null;
  /** Its triangles before simplification for display (more than the mesh has when simplified). */
  fullTriangles: number;
}

export type SurfaceReply =
  | {
      type: 'chunks';
      generation: number;
      chunks: SurfaceChunk[];
      /** `changedAt` of the oldest change this reply includes (main-thread performance.now()). */
      changedAt: number;
    }
  | { type: 'surface'; id: number; surface: SurfaceMesh };
