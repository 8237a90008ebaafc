/**
 * Interactive segmentation of one volume: clicks on the original grid in, one mask per object
 * on the original grid out. Each object keeps its own patches (128^3 windows of the 1.5 mm
 * canonical model grid) and prompts; embeddings are shared through an LRU cache.
 *
 * A click prompts every patch of the object that contains it, so overlapping patches agree where
 * they meet (only the decoder runs when embeddings are cached), or opens a new patch centred on
 * it. When a patch's mask reaches a patch face inside the volume, the neighbouring patch (50%
 * overlap) is prompted from the overlap — points inside the mask there and the overlapping
 * logits — and so on until the mask stops growing or the patch limit is reached. Each patch's
 * progress names the box of the original grid it may have changed (where it is the nearest-centred
 * patch), and composeMask gives the object's mask in such a box, so a caller can show the result
 * part by part without a volume-sized mask per object.
 */
import { LOW_RES_SIZE, LOW_RES_VOXELS, type ModelRunner } from '../model-runner';
import {
  PATCH_SIZE,
  PATCH_STRIDES,
  composePatchMasks,
  modelGrid,
  nearestPatchBox,
  patchFootprint,
  samplePatch,
  sourceToModel,
  type ModelGrid,
  type PatchFootprint,
} from '../resample';
import { voxelIndex } from '../geometry';
import type { Vec3, Volume } from '../types';
import { type VoxelBox, boxSize, boxVoxelCount } from '../segmentation/region';
import { EmbeddingCache } from './embedding-cache';
import { distanceTransform } from './mask-analysis';
import { decodePatch, normalizeForeground, type PatchPoint, type PatchPrediction } from './patch-inference';

const HALF_PATCH = PATCH_SIZE / 2;
/** Points sampled from the mask in an overlap to prompt a neighbouring patch. */
const OVERLAP_POINTS = 3;

export interface SessionOptions {
  /** Identifies the volume in the embedding cache (shared caches hold several volumes). */
  volumeId: string;
  cache?: EmbeddingCache;
  /**
   * Most patches one click may run (default 8; 1 disables following). Of the object's patches
   * holding the click, the nearest-centred run first; the others keep the point for their next run.
   */
  maxPatches?: number;
}

export interface PatchProgress {
  /** Patches run so far for this click (1 after the clicked patch). */
  patchesDone: number;
  maxPatches: number;
  /** Model-grid position of the patch just run. */
  offset: Vec3;
  /** Whether it needed the encoder (no cached embedding). */
  encoded: boolean;
  /** The original voxels of the object's mask this patch may have changed (where it is the nearest-centred patch), or null. */
  changed: VoxelBox | null;
}

export interface ClickOptions {
  signal?: AbortSignal;
  /** Most patches this click may run, instead of the session's `maxPatches` (at least 1). */
  maxPatches?: number;
  /** Called after each patch, its part already on the object's mask; the click waits for a returned promise. */
  onProgress?: (progress: PatchProgress) => unknown;
}

export interface ClickResult {
  /** The object's mask (0/1) with exactly the input volume's geometry, composed when first read. */
  readonly mask: Volume<Uint8Array>;
  /** The model's IoU estimate for the patch whose centre is nearest the click. */
  iou: number;
  patchesRun: number;
  patchesEncoded: number;
  /** Milliseconds spent in the decoder (the model's share of a click on cached embeddings). */
  decoderMs: number;
}

/** Patches run and encoded by one click, its patch limit, and its decoder time. */
interface ClickStats {
  run: number;
  encoded: number;
  limit: number;
  decoderMs: number;
}

interface Patch {
  offset: Vec3;
  footprint: PatchFootprint;
  points: PatchPoint[];
  prediction: PatchPrediction | null;
}

/**
 * An object is its patches' predictions (128^3 masks on the model grid), not a volume-sized mask:
 * any box of its mask on the original grid is composed from them on demand (composeMask).
 */
interface SegmentedObject {
  patches: Patch[];
  /** Every click, in model-grid voxels, so patches opened later see the ones they contain. */
  clicks: { model: Vec3; positive: boolean }[];
}

export class SegmentationSession {
  readonly grid: ModelGrid;
  readonly cache: EmbeddingCache;
  private readonly objects = new Map<string, SegmentedObject>();
  private readonly maxPatches: number;
  /** Clicks run one after another: each builds on the previous one's logits. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Patch positions encoded by this session (their embeddings may since have left the cache). */
  private readonly encodedOffsets: Vec3[] = [];

  constructor(
    readonly volume: Volume,
    private readonly runner: ModelRunner,
    private readonly options: SessionOptions,
  ) {
    this.grid = modelGrid(volume.geometry);
    this.cache = options.cache ?? new EmbeddingCache();
    this.maxPatches = Math.max(1, options.maxPatches ?? 8);
  }

  /** Adds a positive or negative click at voxel `point` (i, j, k) of the input volume to an object. */
  addClick(objectId: string, point: Vec3, positive: boolean, options: ClickOptions = {}): Promise<ClickResult> {
    return this.enqueue(() => this.runClick(objectId, point, positive, options));
  }

  /**
   * Encodes the patch centred on voxel `point` ahead of any click (e.g. under the cursor while
   * the backend is idle): a first click near it then runs only the decoder. True when the
   * encoder ran (false: the embedding was cached).
   */
  prepare(point: Vec3, signal?: AbortSignal): Promise<boolean> {
    return this.enqueue(async () => {
      const model = this.modelVoxel(point);
      // A first click here would use an encoded patch whose central half holds the point.
      if (this.encodedPatchAround(model)) return false;
      const { encoded } = await this.embeddings(model.map((v) => v - HALF_PATCH) as Vec3, signal);
      return encoded;
    });
  }

  /** The object's whole current mask (a volume-sized buffer, composed now), or undefined for an unknown object. */
  objectMask(objectId: string): Volume<Uint8Array> | undefined {
    const object = this.objects.get(objectId);
    return object && this.maskVolume(object);
  }

  /** The object's current mask inside `box` (i-fastest within it), or undefined for an unknown object. */
  composeMask(objectId: string, box: VoxelBox): Uint8Array | undefined {
    const object = this.objects.get(objectId);
    return object && this.compose(object, box);
  }

  removeObject(objectId: string): void {
    this.objects.delete(objectId);
  }

  /** What the objects hold: their patches' predictions (masks and logits), and the cached embeddings. */
  memory(): { patches: number; patchBytes: number; embeddingBytes: number } {
    let patches = 0;
    let patchBytes = 0;
    for (const object of this.objects.values()) {
      for (const { prediction } of object.patches) {
        if (!prediction) continue;
        patches++;
        patchBytes += prediction.mask.byteLength + prediction.logits.byteLength;
      }
    }
    return { patches, patchBytes, embeddingBytes: this.cache.usedBytes };
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private maskVolume(object: SegmentedObject): Volume<Uint8Array> {
    const size = this.volume.geometry.size;
    return { geometry: this.volume.geometry, data: this.compose(object, { min: [0, 0, 0], max: [size[0] - 1, size[1] - 1, size[2] - 1] }) };
  }

  /** The model-grid voxel of an original voxel, checking that it is one. */
  private modelVoxel(point: Vec3): Vec3 {
    const size = this.volume.geometry.size;
    if (!point.every((v, axis) => Number.isInteger(v) && v >= 0 && v < size[axis])) {
      throw new RangeError(`point (${point.join(', ')}) is outside the image (size ${size.join(' x ')})`);
    }
    return sourceToModel(this.grid, point).map(Math.round) as Vec3;
  }

  private async runClick(objectId: string, point: Vec3, positive: boolean, options: ClickOptions): Promise<ClickResult> {
    const model = this.modelVoxel(point);
    const maskOf = (object: SegmentedObject) => this.maskVolume(object);
    let object = this.objects.get(objectId);
    if (!object) {
      object = { patches: [], clicks: [] };
      this.objects.set(objectId, object);
    }
    object.clicks.push({ model, positive });

    let clicked = this.patchesContaining(object, model);
    if (clicked.length === 0) {
      clicked = [this.newPatch(object, this.encodedPatchAround(model) ?? (model.map((v) => v - HALF_PATCH) as Vec3))];
    } else {
      for (const patch of clicked) patch.points.push({ position: toPatch(model, patch.offset), positive });
    }

    const stats: ClickStats = { run: 0, encoded: 0, limit: Math.max(1, options.maxPatches ?? this.maxPatches), decoderMs: 0 };
    try {
      const queue = clicked.slice(0, stats.limit);
      for (const patch of queue) await this.runPatch(object, patch, patch.prediction?.logits, stats, options);
      while (queue.length > 0 && stats.run < stats.limit) {
        const from = queue.shift() as Patch;
        for (const [axis, side] of this.facesToFollow(object, from)) {
          if (stats.run >= stats.limit) break;
          const neighbour = this.openNeighbour(object, from, axis, side);
          const maskInput = shiftedLogits((from.prediction as PatchPrediction).logits, axis, side);
          await this.runPatch(object, neighbour, maskInput, stats, options);
          if (grewBeyondOverlap(neighbour, axis, side)) queue.push(neighbour);
        }
      }
    } finally {
      // A cancelled click leaves no half-made patch behind (its clicks stay in object.clicks).
      object.patches = object.patches.filter((p) => p.prediction);
    }
    const done = object;
    let mask: Volume<Uint8Array> | null = null;
    return {
      get mask() {
        return (mask ??= maskOf(done));
      },
      iou: (clicked[0].prediction as PatchPrediction).iou,
      patchesRun: stats.run,
      patchesEncoded: stats.encoded,
      decoderMs: stats.decoderMs,
    };
  }

  /** The object's patches holding `model`, the one whose centre is nearest first. */
  private patchesContaining(object: SegmentedObject, model: Vec3): Patch[] {
    const distance = (patch: Patch) => toPatch(model, patch.offset).reduce((sum, v) => sum + (v - HALF_PATCH) ** 2, 0);
    return object.patches
      .filter((patch) => toPatch(model, patch.offset).every((v) => v >= 0 && v < PATCH_SIZE))
      .sort((a, b) => distance(a) - distance(b));
  }

  /** A patch with a cached embedding whose central half holds `model`: as good a context as a centred one. */
  private encodedPatchAround(model: Vec3): Vec3 | undefined {
    const quarter = PATCH_SIZE / 4;
    return this.encodedOffsets.find(
      (offset) =>
        this.cache.has(EmbeddingCache.key(this.options.volumeId, offset)) &&
        toPatch(model, offset).every((v) => v >= quarter && v < PATCH_SIZE - quarter),
    );
  }

  /** A new patch of the object, prompted by the object's clicks that fall inside it. */
  private newPatch(object: SegmentedObject, offset: Vec3, extraPoints: PatchPoint[] = []): Patch {
    const points = [...extraPoints];
    for (const click of object.clicks) {
      const position = toPatch(click.model, offset);
      if (position.every((v) => v >= 0 && v < PATCH_SIZE)) points.push({ position, positive: click.positive });
    }
    const patch: Patch = { offset, footprint: patchFootprint(this.grid, offset), points, prediction: null };
    object.patches.push(patch);
    return patch;
  }

  /** The patch's embeddings, from the cache or the encoder; true in `encoded` when the encoder ran. */
  private async embeddings(offset: Vec3, signal?: AbortSignal): Promise<{ embeddings: Float32Array; encoded: boolean }> {
    const key = EmbeddingCache.key(this.options.volumeId, offset);
    const cached = this.cache.get(key);
    if (cached) return { embeddings: cached, encoded: false };
    signal?.throwIfAborted();
    const image = samplePatch(this.volume, this.grid, offset);
    normalizeForeground(image);
    const embeddings = await this.runner.encode(image);
    this.cache.set(key, embeddings);
    if (!this.encodedOffsets.some((o) => o.every((v, a) => v === offset[a]))) this.encodedOffsets.push(offset);
    return { embeddings, encoded: true };
  }

  /** Runs a patch; its progress reports the box of the object's mask it may have changed. */
  private async runPatch(
    object: SegmentedObject,
    patch: Patch,
    maskInput: Float32Array | undefined,
    stats: ClickStats,
    options: ClickOptions,
  ): Promise<void> {
    options.signal?.throwIfAborted();
    const { embeddings, encoded } = await this.embeddings(patch.offset, options.signal);
    if (encoded) {
      stats.encoded++;
      options.signal?.throwIfAborted();
    }
    const decodeStart = performance.now();
    patch.prediction = await decodePatch(this.runner, embeddings, patch.points, maskInput);
    stats.decoderMs += performance.now() - decodeStart;
    stats.run++;
    // Each voxel takes the patch centred nearest to it: only where this patch is can change.
    const placed = object.patches.filter((p) => p.prediction);
    const changed = nearestPatchBox(this.grid, placed, placed.indexOf(patch));
    await options.onProgress?.({ patchesDone: stats.run, maxPatches: stats.limit, offset: patch.offset, encoded, changed });
  }

  /** Faces (model axis, side -1 | +1) the patch's mask touches inside the volume, with no patch of the object beyond. */
  private facesToFollow(object: SegmentedObject, patch: Patch): [number, -1 | 1][] {
    const mask = (patch.prediction as PatchPrediction).mask;
    const faces: [number, -1 | 1][] = [];
    for (let axis = 0; axis < 3; axis++) {
      for (const side of [-1, 1] as const) {
        const atVolumeBorder = side < 0 ? patch.offset[axis] <= 0 : patch.offset[axis] + PATCH_SIZE >= this.grid.size[axis];
        if (atVolumeBorder || !touchesFace(mask, axis, side)) continue;
        // Skip when the object already has a patch at (or within a quarter patch of) that place.
        const offset = neighbourOffset(patch.offset, axis, side);
        if (object.patches.some((p) => p.offset.every((v, a) => Math.abs(v - offset[a]) < PATCH_SIZE / 4))) continue;
        faces.push([axis, side]);
      }
    }
    return faces;
  }

  private openNeighbour(object: SegmentedObject, from: Patch, axis: number, side: -1 | 1): Patch {
    const offset = neighbourOffset(from.offset, axis, side);
    const sampled = overlapPoints((from.prediction as PatchPrediction).mask, axis, side).map((p) => {
      const position = [...p] as Vec3;
      position[axis] -= side * HALF_PATCH;
      return { position, positive: true };
    });
    return this.newPatch(object, offset, sampled);
  }

  /** The object's mask inside `box` (i-fastest within it), each voxel from the patch centred nearest to it. */
  private compose(object: SegmentedObject, box: VoxelBox): Uint8Array {
    const placed = object.patches
      .filter((p) => p.prediction)
      .map((p) => ({ offset: p.offset, footprint: p.footprint, mask: (p.prediction as PatchPrediction).mask }));
    const target = new Uint8Array(boxVoxelCount(box));
    composePatchMasks(target, this.grid, placed, box, { origin: box.min, size: boxSize(box) });
    return target;
  }
}

function toPatch(model: Vec3, offset: Vec3): Vec3 {
  return [model[0] - offset[0], model[1] - offset[1], model[2] - offset[2]];
}

function neighbourOffset(offset: Vec3, axis: number, side: -1 | 1): Vec3 {
  const next = [...offset] as Vec3;
  next[axis] += side * HALF_PATCH;
  return next;
}

/** Whether a 128^3 C-order mask has a voxel on the face of model axis `axis` at `side`. */
function touchesFace(mask: Uint8Array, axis: number, side: -1 | 1): boolean {
  const layer = side < 0 ? 0 : PATCH_SIZE - 1;
  const [u, v] = [0, 1, 2].filter((a) => a !== axis);
  for (let x = 0; x < PATCH_SIZE; x++) {
    for (let y = 0; y < PATCH_SIZE; y++) {
      if (mask[layer * PATCH_STRIDES[axis] + x * PATCH_STRIDES[u] + y * PATCH_STRIDES[v]]) return true;
    }
  }
  return false;
}

/** Range [lo, hi) of a patch's half that overlaps its neighbour at `side`. */
function overlapRange(side: -1 | 1): [number, number] {
  return side < 0 ? [0, HALF_PATCH] : [HALF_PATCH, PATCH_SIZE];
}

/**
 * Up to OVERLAP_POINTS positive prompts inside the mask where it overlaps the neighbour at
 * (axis, side), in the source patch's coordinates: the most interior voxel, then those farthest
 * from the points already chosen among the well-interior voxels.
 */
function overlapPoints(mask: Uint8Array, axis: number, side: -1 | 1): Vec3[] {
  const lo: Vec3 = [0, 0, 0];
  const hi: Vec3 = [PATCH_SIZE, PATCH_SIZE, PATCH_SIZE];
  [lo[axis], hi[axis]] = overlapRange(side);
  // Sub-volume with the last model axis fastest: dimensions in reversed model-axis order.
  const dims: Vec3 = [hi[2] - lo[2], hi[1] - lo[1], hi[0] - lo[0]];
  const region = new Uint8Array(dims[0] * dims[1] * dims[2]);
  let o = 0;
  for (let a = lo[0]; a < hi[0]; a++) {
    for (let b = lo[1]; b < hi[1]; b++) {
      for (let c = lo[2]; c < hi[2]; c++) region[o++] = mask[a * PATCH_STRIDES[0] + b * PATCH_STRIDES[1] + c];
    }
  }
  const distance = distanceTransform(region, dims);
  let deepest = 0;
  for (let v = 1; v < distance.length; v++) if (distance[v] > distance[deepest]) deepest = v;
  if (distance[deepest] === 0) return [];
  const candidates: Vec3[] = [voxelIndex(dims, deepest)];
  for (let v = 0; v < distance.length; v++) {
    if (v !== deepest && distance[v] >= distance[deepest] / 2) candidates.push(voxelIndex(dims, v));
  }
  const chosen = [candidates[0]];
  const nearest = candidates.map((p) => squaredDistance(p, chosen[0]));
  while (chosen.length < OVERLAP_POINTS) {
    let far = -1;
    for (let n = 0; n < candidates.length; n++) if (far < 0 || nearest[n] > nearest[far]) far = n;
    if (nearest[far] === 0) break;
    chosen.push(candidates[far]);
    candidates.forEach((p, n) => (nearest[n] = Math.min(nearest[n], squaredDistance(p, candidates[far]))));
  }
  // (c, b, a) sub-volume index -> (a, b, c) patch index
  return chosen.map(([c, b, a]) => [a + lo[0], b + lo[1], c + lo[2]]);
}

function squaredDistance(p: Vec3, q: Vec3): number {
  return (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2;
}

/** The neighbour's mask prompt: the source logits moved by half a patch, zeros where they do not reach. */
function shiftedLogits(logits: Float32Array, axis: number, side: -1 | 1): Float32Array {
  const shifted = new Float32Array(LOW_RES_VOXELS);
  const half = LOW_RES_SIZE / 2;
  const strides = [LOW_RES_SIZE * LOW_RES_SIZE, LOW_RES_SIZE, 1];
  for (let a = 0; a < LOW_RES_SIZE; a++) {
    for (let b = 0; b < LOW_RES_SIZE; b++) {
      for (let c = 0; c < LOW_RES_SIZE; c++) {
        const source = [a, b, c];
        source[axis] += side * half;
        if (source[axis] < 0 || source[axis] >= LOW_RES_SIZE) continue;
        shifted[a * strides[0] + b * strides[1] + c] = logits[source[0] * strides[0] + source[1] * strides[1] + source[2]];
      }
    }
  }
  return shifted;
}

/** Whether the neighbour's mask has voxels beyond the half it shares with the patch it came from. */
function grewBeyondOverlap(neighbour: Patch, axis: number, side: -1 | 1): boolean {
  const mask = (neighbour.prediction as PatchPrediction).mask;
  // The neighbour's new half lies on the same side as the overlap does in the source patch.
  const [lo, hi] = overlapRange(side);
  for (let o = 0; o < mask.length; o++) {
    if (!mask[o]) continue;
    const position = Math.floor(o / PATCH_STRIDES[axis]) % PATCH_SIZE;
    if (position >= lo && position < hi) return true;
  }
  return false;
}
