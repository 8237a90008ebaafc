import type { Vec3 } from '../types';
import { type RunLength, type VoxelBox, boxVoxelCount, decodeRuns, encodeRuns, readBox, runBytes, writeBox } from './region';

/**
 * A box's values: run-length coded, or raw (i-fastest in the box) until the history codes them
 * (a model result is applied at once and coded in idle time, see EditHistory.compact).
 */
export type BoxValues = RunLength | Uint8Array;

/** The exact change of one edit: the smallest box holding every changed voxel, with its values before and after. */
export interface VoxelPatch {
  box: VoxelBox;
  before: BoxValues;
  after: BoxValues;
}

export function boxValuesBytes(values: BoxValues): number {
  return values instanceof Uint8Array ? values.byteLength : runBytes(values);
}

export function patchBytes(patch: VoxelPatch): number {
  return boxValuesBytes(patch.before) + boxValuesBytes(patch.after);
}

/** Raw values of `count` voxels, decoded when run-length coded. */
export function rawValues(values: BoxValues, count: number): Uint8Array {
  return values instanceof Uint8Array ? values : decodeRuns(values, count);
}

/** The raw values of one side of a patch. */
export function patchValues(patch: VoxelPatch, side: 'before' | 'after'): Uint8Array {
  return rawValues(patch[side], boxVoxelCount(patch.box));
}

/** Writes the patch's `before` (undo) or `after` (redo) values into the labelmap. */
export function applyPatch(labels: Uint8Array, size: Vec3, patch: VoxelPatch, side: 'before' | 'after'): void {
  writeBox(labels, size, patch.box, patchValues(patch, side));
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

  /** The patch of everything that changed since construction, or null when nothing did. */
  finish(): VoxelPatch | null {
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
    return { box, before: encodeRuns(before), after: encodeRuns(after) };
  }
}
