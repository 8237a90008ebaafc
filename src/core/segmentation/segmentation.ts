import type { ImageGeometry, Vec3 } from '../types';
import { type BrushDab, forEachBrushSpan } from './brush';
import { EditHistory, type EditCommand } from './history';
import { type VoxelBox, clipBox, intersectBox, readBox, unionBox } from './region';
import { MAX_SEGMENTS, type Rgb, type Segment, type SegmentPoint, defaultSegmentColor } from './segments';
import { type BoxValues, LabelEditRecorder, type VoxelPatch, applyPatch } from './voxel-patch';

/** A model result for one segment: a 0/1 mask over `region` (i-fastest within the box). */
export interface RegionMask {
  region: VoxelBox;
  mask: Uint8Array;
}

/** What changed, for views that redraw only what they must. `box` is null when only the table changed. */
export interface SegmentationChange {
  box: VoxelBox | null;
  version: number;
}

export type SegmentUpdate = Partial<Pick<Segment, 'name' | 'color' | 'visible' | 'points'>>;

/**
 * A labelmap on the source image grid (one byte per voxel, up to 255 segments) with its segment
 * table and undo/redo history. Every edit is a command storing only the changed region, so undo and
 * redo restore the exact previous voxels and the history stays within its memory budget.
 */
export class Segmentation {
  readonly labels: Uint8Array;
  private table: readonly Segment[] = [];
  private readonly history: EditHistory;
  /** Voxel count per label value, kept exact through every patch. */
  private readonly counts = new Float64Array(256);
  private readonly listeners = new Set<(change: SegmentationChange) => void>();
  private stroke: { recorder: LabelEditRecorder; label: number; erase: boolean; name: string } | null = null;
  private changeVersion = 0;

  constructor(
    readonly geometry: ImageGeometry,
    options: { historyBudgetBytes?: number } = {},
  ) {
    const [nx, ny, nz] = geometry.size;
    this.labels = new Uint8Array(nx * ny * nz);
    this.counts[0] = this.labels.length;
    this.history = new EditHistory(options.historyBudgetBytes);
  }

  get segments(): readonly Segment[] {
    return this.table;
  }

  get version(): number {
    return this.changeVersion;
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  get historyBytes(): number {
    return this.history.bytes;
  }

  segment(label: number): Segment | undefined {
    return this.table.find((s) => s.label === label);
  }

  subscribe(listener: (change: SegmentationChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds a segment with the lowest free label value. */
  addSegment(init: { name?: string; color?: Rgb } = {}): Segment {
    const used = new Set(this.table.map((s) => s.label));
    let label = 1;
    while (used.has(label)) label++;
    if (label > MAX_SEGMENTS) throw new Error(`A labelmap holds at most ${MAX_SEGMENTS} segments.`);
    const segment: Segment = {
      label,
      name: init.name ?? `Segment ${label}`,
      color: init.color ?? defaultSegmentColor(label),
      visible: true,
      points: [],
    };
    this.commit('Add segment', null, [...this.table, segment].sort((a, b) => a.label - b.label));
    return segment;
  }

  /** Rename, recolour, show/hide or replace the points of a segment. */
  updateSegment(label: number, update: SegmentUpdate, name = 'Edit segment'): void {
    const current = this.requireSegment(label);
    this.commit(name, null, this.table.map((s) => (s === current ? { ...s, ...update } : s)));
  }

  /** Removes the segment and clears its voxels, in one undoable step. */
  deleteSegment(label: number): void {
    this.requireSegment(label);
    const recorder = new LabelEditRecorder(this.labels, this.geometry.size);
    const [nx, ny, nz] = this.geometry.size;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        const start = nx * (j + ny * k);
        const row = this.labels.subarray(start, start + nx);
        if (!row.includes(label)) continue;
        recorder.touchRow(j, k);
        for (let i = 0; i < nx; i++) if (row[i] === label) row[i] = 0;
      }
    }
    this.commit('Delete segment', recorder.finish(), this.table.filter((s) => s.label !== label));
  }

  /**
   * Applies a model result to a segment: inside `region`, the segment becomes exactly the mask,
   * except that voxels of other segments are kept. Outside the region (everywhere, for a null
   * result) nothing changes. The segment's prompt points are replaced by `points` in the same step.
   * Returns the step; passing it as `amend` to the next call makes that call part of the same step
   * (a result that arrives in parts), as long as no other edit came in between. With `within`,
   * only that part of the region is applied (the rest can follow, amended).
   */
  applyModelMask(
    label: number,
    result: RegionMask | null,
    options: { points?: readonly SegmentPoint[]; amend?: EditCommand | null; within?: VoxelBox } = {},
  ): EditCommand | null {
    const current = this.requireSegment(label);
    const region = result && (options.within ? intersectBox(result.region, options.within) : result.region);
    const box = region && clipBox(region, this.geometry.size);
    let patch: VoxelPatch | null = null;
    if (result && box) {
      // Raw copies of the box before and after: a model result can cover millions of voxels, and
      // run-length coding them here would delay the overlay; the history codes them later.
      const size = this.geometry.size;
      const before = readBox(this.labels, size, box);
      const countDelta = applyMaskRows(this.labels, size, box, result, label);
      if (countDelta) {
        patch = { box, before, after: readBox(this.labels, size, box) };
        this.counts[label] += countDelta.label;
        this.counts[0] += countDelta.free;
      }
    }
    const table = options.points
      ? this.table.map((s) => (s === current ? { ...s, points: options.points! } : s))
      : this.table;
    if (options.amend && options.amend === this.history.last) {
      this.history.amendLast(patch, table);
      this.table = table;
      this.emit(patch?.box ?? null);
      return options.amend;
    }
    this.commit('Segment', patch, table, { counted: true });
    return this.history.last;
  }

  /** Run-length codes raw undo data for about `budgetMs` (call when idle); true while some is left. */
  compactHistory(budgetMs: number): boolean {
    return this.history.compact(budgetMs);
  }

  get historyNeedsCompaction(): boolean {
    return this.history.needsCompaction;
  }

  /** Starts a brush or eraser stroke on a segment; dabs until `endStroke` form one undo step. */
  beginStroke(label: number, erase: boolean): void {
    this.requireSegment(label);
    this.endStroke();
    this.stroke = {
      recorder: new LabelEditRecorder(this.labels, this.geometry.size),
      label,
      erase,
      name: erase ? 'Erase' : 'Paint',
    };
  }

  /**
   * One brush dab. Painting claims every voxel under the brush for the segment (the user's explicit
   * choice); erasing clears only the segment's own voxels.
   */
  dab(dab: BrushDab): void {
    const stroke = this.stroke;
    if (!stroke) throw new Error('dab() outside a stroke: call beginStroke() first.');
    const { labels } = this;
    let box: VoxelBox | null = null;
    forEachBrushSpan(this.geometry.size, this.geometry.spacing, dab, (j, k, iFirst, iLast) => {
      const rowStart = stroke.recorder.touchRow(j, k);
      for (let offset = rowStart + iFirst; offset <= rowStart + iLast; offset++) {
        if (stroke.erase) {
          if (labels[offset] === stroke.label) labels[offset] = 0;
        } else {
          labels[offset] = stroke.label;
        }
      }
      if (!box) box = { min: [iFirst, j, k], max: [iLast, j, k] };
      box.min = [Math.min(box.min[0], iFirst), Math.min(box.min[1], j), box.min[2]];
      box.max = [Math.max(box.max[0], iLast), Math.max(box.max[1], j), k];
    });
    // Views update during the stroke; counts and history are settled at its end.
    if (box) this.emit(box);
  }

  endStroke(): void {
    const stroke = this.stroke;
    if (!stroke) return;
    this.stroke = null;
    const patch = stroke.recorder.finish();
    if (patch) this.commit(stroke.name, patch, this.table);
  }

  /** Replaces labelmap and table (import of a labelmap file), as one undoable step. */
  replaceAll(labels: Uint8Array, segments: readonly Segment[]): void {
    if (labels.length !== this.labels.length) throw new Error('The labelmap does not match the image grid.');
    const recorder = new LabelEditRecorder(this.labels, this.geometry.size);
    const [nx, ny, nz] = this.geometry.size;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        const start = recorder.touchRow(j, k);
        this.labels.set(labels.subarray(start, start + nx), start);
      }
    }
    this.commit('Import', recorder.finish(), [...segments].sort((a, b) => a.label - b.label));
  }

  undo(): boolean {
    this.endStroke();
    const command = this.history.undo();
    if (!command) return false;
    this.applyCommand(command, 'before');
    return true;
  }

  redo(): boolean {
    this.endStroke();
    const command = this.history.redo();
    if (!command) return false;
    this.applyCommand(command, 'after');
    return true;
  }

  voxelCount(label: number): number {
    return this.counts[label];
  }

  /** Segment volume in millilitres: voxel count times voxel volume (mm^3 / 1000). */
  volumeMl(label: number): number {
    const [sx, sy, sz] = this.geometry.spacing;
    return (this.counts[label] * sx * sy * sz) / 1000;
  }

  private requireSegment(label: number): Segment {
    const segment = this.segment(label);
    if (!segment) throw new Error(`No segment with label ${label}.`);
    return segment;
  }

  /**
   * Records a change whose voxels are already written (`patch.after` is current) and updates the
   * table; `counted` when the caller already moved the voxel counts.
   */
  private commit(name: string, patch: VoxelPatch | null, segmentsAfter: readonly Segment[], options: { counted?: boolean } = {}): void {
    if (!patch && segmentsAfter === this.table) return;
    const command: EditCommand = { name, patches: patch ? [patch] : [], segmentsBefore: this.table, segmentsAfter };
    this.history.push(command);
    this.table = segmentsAfter;
    if (patch && !options.counted) this.countPatch(patch, 'after');
    this.emit(patch?.box ?? null);
  }

  private applyCommand(command: EditCommand, side: 'before' | 'after'): void {
    // Undo takes the parts back newest first; redo applies them in order.
    const patches = side === 'before' ? [...command.patches].reverse() : command.patches;
    for (const patch of patches) {
      applyPatch(this.labels, this.geometry.size, patch, side);
      this.countPatch(patch, side);
    }
    this.table = side === 'before' ? command.segmentsBefore : command.segmentsAfter;
    this.emit(patches.reduce<VoxelBox | null>((box, patch) => unionBox(box, patch.box), null));
  }

  /** Moves voxel counts from one side of a patch to the other. */
  private countPatch(patch: VoxelPatch, side: 'before' | 'after'): void {
    addCounts(this.counts, side === 'after' ? patch.before : patch.after, -1);
    addCounts(this.counts, side === 'after' ? patch.after : patch.before, 1);
  }

  private emit(box: VoxelBox | null): void {
    this.changeVersion++;
    const change = { box, version: this.changeVersion };
    for (const listener of this.listeners) listener(change);
  }
}

/** Adds (sign 1) or removes (sign -1) the voxels of box values to per-label counts. */
function addCounts(counts: Float64Array, values: BoxValues, sign: 1 | -1): void {
  if (values instanceof Uint8Array) {
    const histogram = new Float64Array(256);
    for (let n = 0; n < values.length; n++) histogram[values[n]]++;
    for (let value = 0; value < 256; value++) counts[value] += sign * histogram[value];
  } else {
    for (let r = 0; r < values.values.length; r++) counts[values.values[r]] += sign * values.lengths[r];
  }
}

/**
 * Inside `box`, makes segment `label` exactly the mask: free mask voxels become `label`, the
 * segment's voxels outside the mask become 0, other segments' voxels stay. Branch-free per voxel,
 * because model masks (noisy ones above all) defeat branch prediction. Returns the change of the
 * label's and the background's voxel counts, or null when no voxel changed.
 */
function applyMaskRows(labels: Uint8Array, size: Vec3, box: VoxelBox, result: RegionMask, label: number): { label: number; free: number } | null {
  const { region, mask } = result;
  const regionWidth = region.max[0] - region.min[0] + 1;
  const regionHeight = region.max[1] - region.min[1] + 1;
  const width = box.max[0] - box.min[0] + 1;
  let taken = 0;
  let released = 0;
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      const rowStart = size[0] * (j + size[1] * k) + box.min[0];
      const maskStart = regionWidth * (j - region.min[1] + regionHeight * (k - region.min[2])) + box.min[0] - region.min[0];
      for (let i = 0; i < width; i++) {
        const value = labels[rowStart + i];
        const inMask = mask[maskStart + i];
        const take = inMask & +(value === 0);
        const release = (1 - inMask) & +(value === label);
        labels[rowStart + i] = value + take * label - release * label;
        taken += take;
        released += release;
      }
    }
  }
  return taken + released === 0 ? null : { label: taken - released, free: released - taken };
}
