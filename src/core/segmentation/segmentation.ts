import type { ImageGeometry, Vec3 } from '../types';
import { sharedZeros } from '../shared-voxels';
import { type BrushDab, forEachBrushSpan } from './brush';
import { EditHistory, type EditCommand } from './history';
import { type VoxelBox, clipBox, unionBox } from './region';
import { MAX_SEGMENTS, type Rgb, type Segment, type SegmentPoint, defaultSegmentColor } from './segments';
import { LabelEditRecorder, type RecordedEdit, type VoxelPatch, bitBytes, exchangePatch, moveCounts } from './voxel-patch';

/** A model result for one segment: a 0/1 mask over `region` (i-fastest within the box). */
export interface RegionMask {
  region: VoxelBox;
  mask: Uint8Array;
}

/**
 * Why the labelmap or its table changed: an edit (click part, brush dab, import, segment added,
 * renamed or deleted), undo/redo, a transaction rolled back, or display state (colour, visibility,
 * which is not undoable).
 */
export type ChangeReason = 'edit' | 'undo' | 'redo' | 'rollback' | 'display';

/** What changed, for views that redraw only what they must. `box` is null when only the table changed. */
export interface SegmentationChange {
  box: VoxelBox | null;
  version: number;
  reason: ChangeReason;
  /** Labels whose segment was removed from the table by this change (their model state can go). */
  removed: readonly number[];
}

/** Segment data, inside undo: the name and the prompt points. */
export type SegmentDataUpdate = Partial<Pick<Segment, 'name' | 'points'>>;
/** Display state, outside undo: colour, visibility and opacity. */
export type SegmentDisplayUpdate = Partial<Pick<Segment, 'color' | 'visible' | 'opacity'>>;
export type SegmentUpdate = SegmentDataUpdate & SegmentDisplayUpdate;

/**
 * An open edit of the labelmap that commits as one undo step or rolls back without a trace. A
 * click opens one and writes each part of the model's result as it arrives: the labelmap shows
 * every part at once (views redraw from the change events), and the history sees only the
 * commit. Other voxel edits (brush, delete, import, undo/redo) roll an open transaction back
 * first, so its before-values stay exact; `onRollback` tells the owner.
 */
export interface LabelTransaction {
  readonly open: boolean;
  /** Inside `result.region`, segment `label` becomes exactly the mask (other segments' voxels stay). */
  writeMask(label: number, result: RegionMask): void;
  /** Records the step (with the segment's new points, if given) as one undo step. */
  commit(points?: { label: number; points: readonly SegmentPoint[] }): void;
  /** Puts every voxel written back as it was; the history is untouched. */
  rollback(): void;
}

/**
 * A labelmap on the source image grid (one byte per voxel, up to 255 segments) with its segment
 * table and undo/redo history: the one source of truth for segmentation voxels. Every edit is a
 * command storing only the changed region, so undo and redo restore the exact previous voxels and
 * the history stays within its memory budget. Segment data (voxels, names, points) is undoable;
 * display state (colour, visibility) is not. Every change is announced to `subscribe`rs with the
 * changed box, so views redraw only what they show.
 */
export class Segmentation {
  readonly labels: Uint8Array;
  private table: readonly Segment[] = [];
  private readonly history: EditHistory;
  /** Voxel count per label value, kept exact through every patch. */
  private readonly counts = new Float64Array(256);
  private readonly listeners = new Set<(change: SegmentationChange) => void>();
  private stroke: { recorder: LabelEditRecorder; label: number; erase: boolean; name: string } | null = null;
  private transaction: { patches: VoxelPatch[]; onRollback?: () => void } | null = null;
  private changeVersion = 0;
  private changedBox: VoxelBox | null = null;

  constructor(
    readonly geometry: ImageGeometry,
    options: { historyBudgetBytes?: number } = {},
  ) {
    const [nx, ny, nz] = geometry.size;
    // Shared: the surface worker reads it without copies.
    this.labels = sharedZeros(nx * ny * nz);
    this.counts[0] = this.labels.length;
    this.history = new EditHistory(options.historyBudgetBytes);
  }

  get segments(): readonly Segment[] {
    return this.table;
  }

  get version(): number {
    return this.changeVersion;
  }

  /**
   * A box holding every non-zero voxel: the union of all changes so far (null while the labelmap is
   * as created, all zeros). Readers of a slice scan only this part of it: the rest is zeros, and its
   * untouched shared memory costs a page fault per 4 KiB on its first read (in Chromium, the first
   * overlay of a 512 x 512 x 300 labelmap took 260 ms, nearly all of it in the sagittal slice).
   */
  get nonZeroBox(): VoxelBox | null {
    return this.changedBox;
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
    this.record(
      'Add segment',
      [],
      [...this.table, segment].sort((a, b) => a.label - b.label),
      null,
    );
    return segment;
  }

  /**
   * Rename or replace the points of a segment (one undo step), recolour, show/hide it or set its
   * opacity (display state: applied at once, not undoable).
   */
  updateSegment(label: number, update: SegmentUpdate, name = 'Edit segment'): void {
    const { color, visible, opacity, ...data } = update;
    const current = this.requireSegment(label);
    if (color !== undefined || visible !== undefined || opacity !== undefined) {
      const display = {
        ...current,
        ...(color && { color }),
        ...(visible !== undefined && { visible }),
        ...(opacity !== undefined && { opacity: Math.min(1, Math.max(0, opacity)) }),
      };
      this.table = this.table.map((s) => (s === current ? display : s));
      this.emit(null, 'display');
    }
    if (Object.keys(data).length === 0) return;
    this.commit(
      name,
      null,
      this.table.map((s) => (s.label === label ? { ...s, ...data } : s)),
    );
  }

  /** Removes the segment and clears its voxels, in one undoable step. */
  deleteSegment(label: number): void {
    this.requireSegment(label);
    this.closeEdits();
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
    this.commit(
      'Delete segment',
      recorder.finish(),
      this.table.filter((s) => s.label !== label),
    );
  }

  /** Whether a transaction is open (its writes may still be rolled back). */
  get inTransaction(): boolean {
    return this.transaction !== null;
  }

  /**
   * Opens a transaction (see LabelTransaction); an open one is rolled back first. Only one is
   * open at a time.
   */
  begin(name = 'Segment', options: { onRollback?: () => void } = {}): LabelTransaction {
    this.endStroke();
    this.rollbackTransaction();
    const state = { patches: [] as VoxelPatch[], onRollback: options.onRollback };
    this.transaction = state;
    const isOpen = () => this.transaction === state;
    return {
      get open() {
        return isOpen();
      },
      writeMask: (label, result) => {
        if (!isOpen()) throw new Error('writeMask() on a closed transaction.');
        this.requireSegment(label);
        const written = this.writeMask(label, result);
        if (!written) return;
        state.patches.push(written.patch);
        this.emit(written.changed, 'edit');
      },
      commit: (points) => {
        if (!isOpen()) throw new Error('commit() on a closed transaction.');
        this.transaction = null;
        const table =
          points && this.segment(points.label)
            ? this.table.map((s) => (s.label === points.label ? { ...s, points: points.points } : s))
            : this.table;
        // Its parts were announced as they were written: the commit changes no voxel.
        this.record(name, state.patches, table, null);
      },
      rollback: () => {
        if (isOpen()) this.rollbackTransaction();
      },
    };
  }

  /**
   * Applies a model result to a segment as one undo step: inside `region`, the segment becomes
   * exactly the mask, except that voxels of other segments are kept. Outside the region (everywhere,
   * for a null result) nothing changes. The segment's prompt points are replaced by `points` in
   * the same step.
   */
  applyModelMask(label: number, result: RegionMask | null, options: { points?: readonly SegmentPoint[] } = {}): void {
    this.requireSegment(label);
    const transaction = this.begin();
    if (result) transaction.writeMask(label, result);
    transaction.commit(options.points && { label, points: options.points });
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
    this.closeEdits();
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
    if (box) this.emit(box, 'edit');
  }

  endStroke(): void {
    const stroke = this.stroke;
    if (!stroke) return;
    this.stroke = null;
    const edit = stroke.recorder.finish();
    // Its dabs were announced as they were painted: the end of the stroke changes no voxel.
    if (edit) this.commit(stroke.name, edit, this.table, { announced: true });
  }

  /** Replaces labelmap and table (import of a labelmap file), as one undoable step. */
  replaceAll(labels: Uint8Array, segments: readonly Segment[]): void {
    if (labels.length !== this.labels.length) throw new Error('The labelmap does not match the image grid.');
    this.closeEdits();
    const recorder = new LabelEditRecorder(this.labels, this.geometry.size);
    const [nx, ny, nz] = this.geometry.size;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        const start = recorder.touchRow(j, k);
        this.labels.set(labels.subarray(start, start + nx), start);
      }
    }
    this.commit(
      'Import',
      recorder.finish(),
      [...segments].sort((a, b) => a.label - b.label),
    );
  }

  undo(): boolean {
    this.closeEdits();
    const command = this.history.undo((patch) => this.exchange(patch));
    if (!command) return false;
    this.restoreTable(command, 'undo');
    return true;
  }

  redo(): boolean {
    this.closeEdits();
    const command = this.history.redo((patch) => this.exchange(patch));
    if (!command) return false;
    this.restoreTable(command, 'redo');
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

  /** Ends a stroke and rolls back a transaction: a voxel edit must not interleave with them. */
  private closeEdits(): void {
    this.endStroke();
    this.rollbackTransaction();
  }

  private rollbackTransaction(): void {
    const state = this.transaction;
    if (!state) return;
    this.transaction = null;
    // Newest part first: overlapping parts each hold the voxels as the previous one left them.
    let box: VoxelBox | null = null;
    for (const patch of [...state.patches].reverse()) {
      this.exchange(patch);
      box = unionBox(box, patch.box);
    }
    if (box) this.emit(box, 'rollback');
    state.onRollback?.();
  }

  /**
   * Writes a model result into the labelmap (counts kept), returning the patch of what changed (a
   * bit per voxel of the box: the segment's voxels only go between 0 and its label) and the box of
   * the rows where some voxel changed, or null when no voxel did. Raw bits: a model result can
   * cover millions of voxels, and run-length coding them here would delay the overlay; the history
   * codes them later.
   */
  private writeMask(label: number, result: RegionMask): { patch: VoxelPatch; changed: VoxelBox } | null {
    const box = clipBox(result.region, this.geometry.size);
    if (!box) return null;
    const toggled = new Uint8Array(bitBytes(box));
    const written = applyMaskRows(this.labels, this.geometry.size, box, result, label, toggled);
    if (!written) return null;
    this.counts[label] += written.label;
    this.counts[0] += written.free;
    return { patch: { box, values: toggled, toggles: label }, changed: written.changed };
  }

  /**
   * Records a recorded change whose voxels are already written, counts them and updates the table;
   * `announced`: its voxels were already in change events.
   */
  private commit(name: string, edit: RecordedEdit | null, segmentsAfter: readonly Segment[], { announced = false } = {}): void {
    if (edit) moveCounts(this.counts, edit.before, edit.after);
    this.record(name, edit ? [edit.patch] : [], segmentsAfter, announced ? null : (edit?.patch.box ?? null));
  }

  /**
   * Pushes a step whose voxels are written and counted, and switches to its table; the change
   * event carries `changedBox`, the voxels not yet announced (views redraw only those).
   */
  private record(name: string, patches: VoxelPatch[], segmentsAfter: readonly Segment[], changedBox: VoxelBox | null): void {
    if (patches.length === 0 && segmentsAfter === this.table) return;
    this.history.push({ name, patches, segmentsBefore: this.table, segmentsAfter });
    const removed = this.table.filter((s) => !segmentsAfter.some((t) => t.label === s.label)).map((s) => s.label);
    this.table = segmentsAfter;
    this.emit(changedBox, 'edit', removed);
  }

  /** Takes a patch's edit back or applies it again (undo, redo, rollback), counts kept. */
  private exchange(patch: VoxelPatch): void {
    exchangePatch(this.labels, this.geometry.size, patch, this.counts);
  }

  /** After an undo or redo has exchanged the command's voxels: its table, and the change event. */
  private restoreTable(command: EditCommand, reason: 'undo' | 'redo'): void {
    const { patches } = command;
    // Display state is not undone: rows that stay keep their current colour, visibility and opacity.
    const restored = reason === 'undo' ? command.segmentsBefore : command.segmentsAfter;
    const table = restored.map((row) => {
      const now = this.segment(row.label);
      return now && (now.color !== row.color || now.visible !== row.visible || now.opacity !== row.opacity)
        ? { ...row, color: now.color, visible: now.visible, opacity: now.opacity }
        : row;
    });
    const removed = this.table.filter((s) => !table.some((t) => t.label === s.label)).map((s) => s.label);
    this.table = table;
    this.emit(
      patches.reduce<VoxelBox | null>((box, patch) => unionBox(box, patch.box), null),
      reason,
      removed,
    );
  }

  private emit(box: VoxelBox | null, reason: ChangeReason, removed: readonly number[] = []): void {
    this.changeVersion++;
    this.changedBox = unionBox(this.changedBox, box);
    const change: SegmentationChange = { box, version: this.changeVersion, reason, removed };
    for (const listener of this.listeners) listener(change);
  }
}

/**
 * Inside `box`, makes segment `label` exactly the mask: free mask voxels become `label`, the
 * segment's voxels outside the mask become 0, other segments' voxels stay; sets the bit of each
 * changed voxel in `toggled` (a bit per voxel of the box, i-fastest). Branch-free per voxel,
 * because model masks (noisy ones above all) defeat branch prediction. Returns the change of the
 * label's and the background's voxel counts and the box's rows where a voxel changed (a refining
 * click rewrites a patch's footprint and changes a little of it: views and the 3D view redo only
 * that), or null when no voxel changed.
 */
function applyMaskRows(
  labels: Uint8Array,
  size: Vec3,
  box: VoxelBox,
  result: RegionMask,
  label: number,
  toggled: Uint8Array,
): { label: number; free: number; changed: VoxelBox } | null {
  const { region, mask } = result;
  const regionWidth = region.max[0] - region.min[0] + 1;
  const regionHeight = region.max[1] - region.min[1] + 1;
  const width = box.max[0] - box.min[0] + 1;
  let taken = 0;
  let released = 0;
  // Bit n of the box, gathered a byte at a time.
  let n = 0;
  let bits = 0;
  const changedMin: Vec3 = [box.min[0], box.max[1], box.max[2]];
  const changedMax: Vec3 = [box.max[0], box.min[1], box.min[2]];
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      const changesBefore = taken + released;
      const rowStart = size[0] * (j + size[1] * k) + box.min[0];
      const maskStart = regionWidth * (j - region.min[1] + regionHeight * (k - region.min[2])) + box.min[0] - region.min[0];
      for (let i = 0; i < width; i++, n++) {
        const value = labels[rowStart + i];
        const inMask = mask[maskStart + i];
        const take = inMask & +(value === 0);
        const release = (1 - inMask) & +(value === label);
        labels[rowStart + i] = value + take * label - release * label;
        bits |= (take | release) << (n & 7);
        if ((n & 7) === 7) {
          toggled[n >> 3] = bits;
          bits = 0;
        }
        taken += take;
        released += release;
      }
      if (taken + released > changesBefore) {
        changedMin[1] = Math.min(changedMin[1], j);
        changedMax[1] = Math.max(changedMax[1], j);
        changedMin[2] = Math.min(changedMin[2], k);
        changedMax[2] = Math.max(changedMax[2], k);
      }
    }
  }
  if (n & 7) toggled[n >> 3] = bits;
  if (taken + released === 0) return null;
  return { label: taken - released, free: released - taken, changed: { min: changedMin, max: changedMax } };
}
