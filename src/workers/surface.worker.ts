/// <reference lib="webworker" />
/**
 * The surface worker: keeps the per-block meshes of the current labelmap, re-meshes the blocks
 * each change touches, then sends the new surfaces of the chunks that changed, simplified for
 * display where a chunk has more triangles than a view draws smoothly. Updates that arrive
 * together are answered once.
 *
 * Where it reads the shared labelmap, it marks the blocks a change touches and meshes them once
 * the labelmap has been quiet for QUIET_MS, a slice at a time, stopping as soon as it changes
 * again: a click writes its mask in slabs while the model worker composes the next ones, and on
 * two cores meshing alongside took their CPU (a noisy patch-sized mask takes seconds to mesh).
 * Each block is meshed once with the labels as they are then, however many changes touched it.
 * It also waits, and stops a slice, while the inference worker's decoder runs: a click's decode is
 * short, and meshing beside it on two cores made it up to twice as slow. While the encoder runs
 * (seconds a patch), it meshes a third of the time: bench:segment's first click (8 patches
 * encoded, the random model's noisy masks) took 47-62 s with the 3D view shown and 26-29 s with it
 * hidden, and meshing took 22 s of CPU in it (a trace); meshing a third of the time, 40-45 s and 9 s.
 */
import { isBusy, type ModelRunFlags } from '../core/busy-flag';
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
 * A block (32 voxels across, 64 to a chunk) whose mesh has more triangles than `above` is noise (a
 * smooth surface crosses one with a few thousand, noise with tens of thousands): it is kept
 * simplified to `keep`, about what its share of a chunk's display budget is (see BlockSurfaces).
 */
const NOISY_BLOCK = { above: 8_000, keep: 1_000 };

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
    fitTriangleBudget(ball.chunkSurface(key).surface, 500, 2);
  }
}
warmUp();

/** How long the labelmap must have been unchanged before meshing starts, and at most how long marked blocks wait. */
const QUIET_MS = 40;
const MAX_WAIT_MS = 1000;
/** Meshing between two looks at the message queue (a change there stops it). */
const SLICE_MS = 20;
/** How often a wait for the decoder looks again (a decode takes 50-250 ms here). */
const DECODING_POLL_MS = 10;
/** The pause after each slice while the encoder runs (see above). */
const ENCODING_PAUSE_MS = 2 * SLICE_MS;
/** While a long meshing goes on, what is done is sent this often. */
const PROGRESS_REPLY_MS = 500;
/**
 * The same while the encoder runs, as much less often as meshing is paced then: each reply
 * simplifies its chunks' whole surfaces again.
 */
const ENCODING_PROGRESS_REPLY_MS = (PROGRESS_REPLY_MS * (SLICE_MS + ENCODING_PAUSE_MS)) / SLICE_MS;

let surfaces: BlockSurfaces | null = null;
/** The whole labelmap, when the page shares it (see SurfaceRequest 'reset'). */
let sharedLabels: LabelRegion | null = null;
let generation = 0;
const changedChunks = new Map<string, ChunkKey>();
let oldestChangedAt = Infinity;
let replyScheduled = false;
let lastReplyAt = 0;
/** When the labelmap last changed, and since when marked blocks wait (see MAX_WAIT_MS): set by the first mark, and after each slice. */
let lastChangeAt = -Infinity;
let waitingSince = Infinity;
let meshTimer: ReturnType<typeof setTimeout> | null = null;
let model: ModelRunFlags = { decoding: null, encoding: null };
/** No slice before then (a pause while the encoder runs). */
let nextSliceAt = 0;

function scheduleMeshing(): void {
  if (meshTimer !== null) return;
  const quietAt = isBusy(model.decoding) ? performance.now() + DECODING_POLL_MS : lastChangeAt + QUIET_MS;
  const wait = Math.max(nextSliceAt, Math.min(quietAt, waitingSince + MAX_WAIT_MS)) - performance.now();
  meshTimer = setTimeout(meshSlice, Math.max(0, wait));
}

/** Meshes marked blocks for SLICE_MS once the labelmap is quiet (or they waited MAX_WAIT_MS), then answers when none is left. */
function meshSlice(): void {
  meshTimer = null;
  if (!surfaces || !sharedLabels || surfaces.markedBlocks === 0) return;
  const now = performance.now();
  if (now < nextSliceAt) return scheduleMeshing();
  if ((now - lastChangeAt < QUIET_MS || isBusy(model.decoding)) && now - waitingSince < MAX_WAIT_MS) return scheduleMeshing();
  const deadline = now + SLICE_MS;
  noteChanged(surfaces.updateMarked(sharedLabels, () => performance.now() >= deadline || isBusy(model.decoding)));
  if (surfaces.markedBlocks === 0) return reply();
  waitingSince = performance.now();
  nextSliceAt = isBusy(model.encoding) ? waitingSince + ENCODING_PAUSE_MS : 0;
  if (waitingSince - lastReplyAt >= (nextSliceAt > 0 ? ENCODING_PROGRESS_REPLY_MS : PROGRESS_REPLY_MS)) reply();
  scheduleMeshing();
}

function noteChanged(keys: readonly ChunkKey[]): void {
  for (const key of keys) changedChunks.set(`${key.label}:${key.chunk}`, key);
}

function reply(): void {
  replyScheduled = false;
  lastReplyAt = performance.now();
  // The changes this reply answers, even when they left every surface as it was: the next
  // reply's changes are newer.
  const changedAt = oldestChangedAt;
  // Marked blocks still to mesh belong to these changes too: the next reply answers them.
  if (surfaces?.markedBlocks === 0) oldestChangedAt = Infinity;
  if (!surfaces || changedChunks.size === 0) return;
  const current = surfaces;
  // Simplification starts from cubes of two voxels (the coarsest spacing).
  const startCellMm = 2 * Math.max(...current.geometry.spacing);
  const message: SurfaceReply = {
    type: 'chunks',
    generation,
    changedAt,
    chunks: [...changedChunks.values()].map((key) => {
      const kept = current.chunkSurface(key);
      const surface = fitTriangleBudget(kept.surface, CHUNK_TRIANGLES, startCellMm);
      const coarse = fitTriangleBudget(surface, CHUNK_TRIANGLES_MOVING, startCellMm);
      return {
        ...key,
        surface: toCellMesh(surface),
        coarse: coarse === surface ? null : toCellMesh(coarse),
        fullTriangles: kept.triangles,
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
  if (data.type === 'model-runs') {
    model = data.flags;
    return;
  }
  if (data.type === 'reset') {
    // Blocks it can mesh again from the shared labelmap are kept simplified when noisy.
    surfaces = new BlockSurfaces(data.geometry, data.labels ? { noisy: NOISY_BLOCK } : {});
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
    // An export has the labelmap as it is now.
    if (surfaces && sharedLabels) {
      noteChanged(surfaces.updateMarked(sharedLabels, () => false));
      scheduleReply();
    }
    const surface = surfaces?.surface(data.label, sharedLabels ?? undefined) ?? {
      positions: new Float32Array(),
      normals: new Float32Array(),
      triangles: new Uint32Array(),
    };
    const message: SurfaceReply = { type: 'surface', id: data.id, surface };
    self.postMessage(message, { transfer: [surface.positions.buffer, surface.normals.buffer, surface.triangles.buffer] });
    return;
  }
  if (!surfaces || data.generation !== generation) return;
  oldestChangedAt = Math.min(oldestChangedAt, data.changedAt);
  if (data.region) {
    noteChanged(surfaces.update(data.region, data.blocks));
    scheduleReply();
  } else if (sharedLabels) {
    lastChangeAt = performance.now();
    if (surfaces.markedBlocks === 0) waitingSince = lastChangeAt;
    surfaces.mark(data.blocks);
    scheduleMeshing();
  }
};

function scheduleReply(): void {
  if (!replyScheduled) {
    replyScheduled = true;
    setTimeout(reply, 0);
  }
}
