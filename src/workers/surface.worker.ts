/// <reference lib="webworker" />
/**
 * The surface worker: keeps the per-block meshes of the current labelmap, re-meshes the blocks
 * each change touches, then sends the new surfaces of the chunks that changed, simplified for
 * display where a chunk has more triangles than a view draws smoothly. Updates that arrive
 * together are answered once.
 */
import { touchPages } from '../core/shared-voxels';
import { toCellMesh } from '../core/surface/cell-mesh';
import { fitTriangleBudget } from '../core/surface/simplify';
import { BlockSurfaces, blocksTouchedBy, type ChunkKey, type LabelRegion } from '../core/surface/surface-nets';
import type { ImageGeometry, Vec3 } from '../core/types';
import type { SurfaceReply, SurfaceRequest } from './surface-protocol';

/**
 * Triangles a chunk (128 voxels across) is drawn with at most, and at most while the camera moves
 * or surfaces are arriving. A smooth organ across a chunk has a few tens of thousands; far more
 * comes from noise. Software WebGL draws well under a million triangles a second, so the view
 * must bound what it draws, and draw much less while it moves: dragging two 1M-voxel segments
 * (16 chunks) ran at 13, 23, 29 and 41 frames/s with 5000, 1500, 1000 and 500 triangles a chunk
 * (npm run bench:3d; the empty view 60).
 */
const CHUNK_TRIANGLES = 50_000;
const CHUNK_TRIANGLES_MOVING = 1_000;

/**
 * Meshes a ball once at start: the first surface a user sees would otherwise also pay for
 * compiling the mesher (bench:3d: a 128^3-patch-sized part took 500 ms to mesh cold, 330 ms
 * after this warm-up, 160-200 ms once warm).
 */
function warmUp(): void {
  const n = 64;
  const geometry: ImageGeometry = { size: [n, n, n], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  const data = new Uint8Array(n ** 3);
  for (let k = 0, o = 0; k < n; k++)
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++, o++) data[o] = (i - 32) ** 2 + (j - 30) ** 2 + (k - 34) ** 2 < 400 ? 1 : 0;
  const ball = new BlockSurfaces(geometry);
  const whole = { min: [0, 0, 0] as Vec3, max: [n - 1, n - 1, n - 1] as Vec3 };
  for (const key of ball.update({ box: whole, data }, blocksTouchedBy(whole, geometry.size))) {
    fitTriangleBudget(ball.chunkSurface(key), 500, 2);
  }
}
warmUp();

let surfaces: BlockSurfaces | null = null;
/** The whole labelmap, when the page shares it (see SurfaceRequest 'reset'). */
let sharedLabels: LabelRegion | null = null;
let generation = 0;
const changedChunks = new Map<string, ChunkKey>();
let oldestChangedAt = Infinity;
let replyScheduled = false;

function reply(): void {
  replyScheduled = false;
  // The changes this reply answers, even when they left every surface as it was: the next
  // reply's changes are newer.
  const changedAt = oldestChangedAt;
  oldestChangedAt = Infinity;
  if (!surfaces || changedChunks.size === 0) return;
  const current = surfaces;
  // Simplification starts from cubes of two voxels (the coarsest spacing).
  const startCellMm = 2 * Math.max(...current.geometry.spacing);
  const message: SurfaceReply = {
    type: 'chunks',
    generation,
    changedAt,
    chunks: [...changedChunks.values()].map((key) => {
      const full = current.chunkSurface(key);
      const surface = fitTriangleBudget(full, CHUNK_TRIANGLES, startCellMm);
      const coarse = fitTriangleBudget(surface, CHUNK_TRIANGLES_MOVING, startCellMm);
      return {
        ...key,
        surface: toCellMesh(surface),
        coarse: coarse === surface ? null : toCellMesh(coarse),
        fullTriangles: full.triangles.length / 3,
      };
    }),
  };
  changedChunks.clear();
  const buffers = message.chunks
    .flatMap(({ surface, coarse }) => (coarse ? [surface, coarse] : [surface]))
    .flatMap((mesh) => [mesh.positions.buffer, mesh.normals.buffer, mesh.polys.buffer]);
  self.postMessage(message, { transfer: buffers });
}

self.onmessage = ({ data }: MessageEvent<SurfaceRequest>) => {
  if (data.type === 'reset') {
    surfaces = new BlockSurfaces(data.geometry);
    const [nx, ny, nz] = data.geometry.size;
    sharedLabels = data.labels && { box: { min: [0, 0, 0], max: [nx - 1, ny - 1, nz - 1] }, data: data.labels };
    // A new labelmap: its pages are mapped here, not by the main thread during the first click.
    if (data.labels) touchPages(data.labels);
    generation = data.generation;
    changedChunks.clear();
    oldestChangedAt = Infinity;
    return;
  }
  if (data.type === 'surface') {
    const surface = surfaces?.surface(data.label) ?? {
      positions: new Float32Array(),
      normals: new Float32Array(),
      triangles: new Uint32Array(),
    };
    const message: SurfaceReply = { type: 'surface', id: data.id, surface };
    self.postMessage(message, { transfer: [surface.positions.buffer, surface.normals.buffer, surface.triangles.buffer] });
    return;
  }
  if (!surfaces || data.generation !== generation) return;
  const region = data.region ?? sharedLabels;
  if (!region) return;
  for (const key of surfaces.update(region, data.blocks)) changedChunks.set(`${key.label}:${key.chunk}`, key);
  oldestChangedAt = Math.min(oldestChangedAt, data.changedAt);
  if (!replyScheduled) {
    replyScheduled = true;
    setTimeout(reply, 0);
  }
};
