import type { Vec3 } from '../types';
import { type RunLength, type VoxelBox, boxVoxelCount, decodeRuns, encodeRuns, readBox, runBytes, writeBox } from './region';

/**
 * A box's values: run-length coded, or raw (i-fastest in the box) until the history codes them
 * (a model result is applied at once and coded in idle time, see EditHistory.compact).
 */
export type BoxValues = RunLength | Uint8Array;

/**
 * The exact change of one edit: the smallest box holding every changed voxel, and what undo and
 * redo need to go between its two sides, in one copy:
 * - the box's values on the side of the edit the labelmap does not hold (before the edit while it
 *   is done, after it once undone), which undo and redo exchange with the labelmap's; or
 * - with `toggles` (a model result written for one segment, whose voxels can only go between 0 and
 *   that label): one bit per voxel of the box (i-fastest, 8 a byte, low bit first) saying which
 *   voxels the edit changed; undo and redo both toggle them. An eighth of the box, not the box.
 */
export interface VoxelPatch {
  box: VoxelBox;
  values: BoxValues;
  toggles?: number;
}

export function patchBytes(patch: VoxelPatch): number {
  return patch.values instanceof Uint8Array ? patch.values.byteLength : runBytes(patch.values);
}

/** Raw values of `count` voxels, decoded when run-length coded. */
export function rawValues(values: BoxValues, count: number): Uint8Array {
  return values instanceof Uint8Array ? values : decodeRuns(values, count);
}

/** Bytes of a bit per voxel of a box. */
export function bitBytes(box: VoxelBox): number {
  return Math.ceil(boxVoxelCount(box) / 8);
}

/**
 * Takes the patch's edit back or applies it again (undo, redo, rollback): exchanges its values
 * with the labelmap's in its box, or toggles its voxels; `counts` (voxels per label) follow.
 */
export function exchangePatch(labels: Uint8Array, size: Vec3, patch: VoxelPatch, counts: Float64Array): void {
  if (patch.toggles !== undefined) {
    toggleVoxels(labels, size, patch.box, rawValues(patch.values, bitBytes(patch.box)), patch.toggles, counts);
    return;
  }
  const written = rawValues(patch.values, boxVoxelCount(patch.box));
  const removed = readBox(labels, size, patch.box);
  writeBox(labels, size, patch.box, written);
  patch.values = removed;
  moveCounts(counts, removed, written);
}

/** Moves per-label voxel counts from the values a box held to the values it holds now. */
export function moveCounts(counts: Float64Array, removed: Uint8Array, written: Uint8Array): void {
  const histogram = new Float64Array(256);
  for (let n = 0; n < removed.length; n++) histogram[removed[n]]--;
  for (let n = 0; n < written.length; n++) histogram[written[n]]++;
  for (let value = 0; value < 256; value++) counts[value] += histogram[value];
}

/** Voxels of the box whose bit is set go from `label` to 0 and from 0 to `label`. */
function toggleVoxels(labels: Uint8Array, size: Vec3, box: VoxelBox, bits: Uint8Array, label: number, counts: Float64Array): void {
  const width = box.max[0] - box.min[0] + 1;
  let n = 0;
  let gained = 0;
  let toggled = 0;
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      const rowStart = size[0] * (j + size[1] * k) + box.min[0];
      for (let i = 0; i < width; i++, n++) {
        if (((bits[n >> 3] >> (n & 7)) & 1) === 0) continue;
        const gains = labels[rowStart + i] === 0;
        labels[rowStart + i] = gains ? label : 0;
        gained += gains ? 1 : 0;
        toggled++;
      }
    }
  }
  counts[label] += 2 * gained - toggled;
  counts[0] -= 2 * gained - toggled;
}

/** A recorded edit: its patch, and the box's raw values before and after it (for voxel counts). */
export interface RecordedEdit {
  patch: VoxelPatch;
  before: Uint8Array;
  after: Uint8Array;
}

/**
 * Records an edit of a labelmap in place. Callers call `touchRow(j, k)` before writing into a row
 * (i varying); the first touch keeps a copy of that row. `finish` compares the copies with the
 * current rows, so the patch box is exactly the changed voxels whatever the caller wrote.
 */
export class LabelEditRecorder {
  private readonly originalRows = new Map<number, Uint8Array>();

  constructor(
    private readonly labels: Uint8Array,
    private readonly size: Vec3,
  ) {}

  /** Returns the offset of voxel (0, j, k), copying the row on its first touch. */
  touchRow(j: number, k: number): number {
    const key = j + this.size[1] * k;
    const start = this.size[0] * key;
    if (!this.originalRows.has(key)) this.originalRows.set(key, this.labels.slice(start, start + this.size[0]));
    return start;
  }

  /**
   * The patch of everything that changed since construction (its values: the box before), with the
   * box's raw values before and after for voxel counts; null when nothing changed.
   */
  finish(): RecordedEdit | null {
    const [nx, ny] = this.size;
    let box: VoxelBox | null = null;
    for (const [key, original] of this.originalRows) {
      const current = this.labels.subarray(nx * key, nx * (key + 1));
      let first = -1;
      let last = -1;
      for (let i = 0; i < nx; i++) {
        if (current[i] !== original[i]) {
          if (first < 0) first = i;
          last = i;
        }
      }
      if (first < 0) continue;
      const j = key % ny;
      const k = (key - j) / ny;
      if (!box) box = { min: [first, j, k], max: [last, j, k] };
      else {
        box.min = [Math.min(box.min[0], first), Math.min(box.min[1], j), Math.min(box.min[2], k)];
        box.max = [Math.max(box.max[0], last), Math.max(box.max[1], j), Math.max(box.max[2], k)];
      }
    }
    if (!box) return null;
    const after = readBox(this.labels, this.size, box);
    const before = after.slice();
    const width = box.max[0] - box.min[0] + 1;
    let o = 0;
    for (let k = box.min[2]; k <= box.max[2]; k++) {
      for (let j = box.min[1]; j <= box.max[1]; j++, o += width) {
        const original = this.originalRows.get(j + ny * k);
        if (original) before.set(original.subarray(box.min[0], box.max[0] + 1), o);
      }
    }
    this.originalRows.clear();
    return { patch: { box, values: encodeRuns(before) }, before, after };
  }
}
