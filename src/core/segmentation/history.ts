import { RunEncoder } from './region';
import type { Segment } from './segments';
import { type VoxelPatch, patchBytes } from './voxel-patch';

/**
 * One undoable step: the voxels it changed, as patches applied in order (a click's parts, one per
 * model window it ran), and the segment table before and after it.
 */
export interface EditCommand {
  name: string;
  patches: VoxelPatch[];
  segmentsBefore: readonly Segment[];
  segmentsAfter: readonly Segment[];
}

/** Rough size of a command's segment tables: small next to voxels, but points can add up. */
function tableBytes(segments: readonly Segment[]): number {
  let bytes = 0;
  for (const segment of segments) bytes += 128 + segment.name.length * 2 + segment.points.length * 40;
  return bytes;
}

export function commandBytes(command: EditCommand): number {
  const patches = command.patches.reduce((sum, patch) => sum + patchBytes(patch), 0);
  return patches + tableBytes(command.segmentsBefore) + tableBytes(command.segmentsAfter);
}

export const DEFAULT_HISTORY_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Bytes coded per step of `compact` between clock checks: a few milliseconds of work for a labelmap
 * (long runs), and a bounded one for noise, whose first step codes almost a run per byte (1 MB
 * steps made 88 ms tasks after a click on noise: bench:segment profile).
 */
const CODING_SLICE = 1 << 18;
/**
 * Raw bytes allowed to wait for coding; beyond, `push` codes the oldest at once (bounds memory
 * without idle time). A bound in bytes, not in patches: a click that ran several model windows
 * commits all its parts at once, and coding them then would block the main thread for seconds.
 */
const MAX_WAITING_BYTES = 256 * 1024 * 1024;

interface Entry {
  command: EditCommand;
  bytes: number;
}

/** A patch's raw values being run-length coded. */
interface CodingJob {
  entry: Entry;
  patch: VoxelPatch;
  raw: Uint8Array;
  encoder: RunEncoder;
}

/**
 * Linear undo/redo stack with a memory budget: when the commands' total size exceeds it, the oldest
 * are forgotten (they can no longer be undone), so memory stays bounded whatever the session length
 * (by the budget, or by the newest step when that alone is larger).
 *
 * Patches may arrive with raw values (a model result over a large box, applied without delay);
 * `compact` run-length codes them later, in time slices, keeping whichever form is smaller.
 */
export class EditHistory {
  private done: Entry[] = [];
  private undone: Entry[] = [];
  private totalBytes = 0;
  private coding: CodingJob[] = [];

  constructor(readonly budgetBytes = DEFAULT_HISTORY_BUDGET_BYTES) {}

  get bytes(): number {
    return this.totalBytes;
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** Whether some patch still holds raw values that `compact` would code. */
  get needsCompaction(): boolean {
    return this.coding.length > 0;
  }

  /** Records a new command; the redo branch is discarded. */
  push(command: EditCommand): void {
    for (const entry of this.undone) this.forget(entry);
    this.undone = [];
    const entry = { command, bytes: commandBytes(command) };
    this.done.push(entry);
    this.totalBytes += entry.bytes;
    command.patches.forEach((patch) => this.queueCoding(entry, patch));
    this.enforceBudget();
  }

  /** Codes raw patch values for about `budgetMs`; true when some are left for a later call. */
  compact(budgetMs: number): boolean {
    const end = performance.now() + budgetMs;
    // At least one slice per call, so a zero budget still makes progress.
    do this.codeSlice();
    while (this.coding.length > 0 && performance.now() < end);
    this.enforceBudget();
    return this.coding.length > 0;
  }

  /**
   * Takes the newest step back, moving it to the redo stack: `exchange` swaps each of its patches'
   * values with the labelmap's, newest patch first (overlapping patches each hold the voxels as the
   * one before left them).
   */
  undo(exchange: (patch: VoxelPatch) => void): EditCommand | null {
    const entry = this.done.pop();
    if (!entry) return null;
    this.undone.push(entry);
    this.exchange(entry, [...entry.command.patches].reverse(), exchange);
    return entry.command;
  }

  /** Applies the newest undone step again, patches in order, moving it back to the undo stack. */
  redo(exchange: (patch: VoxelPatch) => void): EditCommand | null {
    const entry = this.undone.pop();
    if (!entry) return null;
    this.done.push(entry);
    this.exchange(entry, entry.command.patches, exchange);
    return entry.command;
  }

  private exchange(entry: Entry, patches: readonly VoxelPatch[], exchange: (patch: VoxelPatch) => void): void {
    const exchanged = patches.filter((patch) => {
      const values = patch.values;
      exchange(patch);
      return patch.values !== values;
    });
    // Those now hold the labelmap's former values, raw: count and code them anew.
    this.coding = this.coding.filter((job) => !exchanged.includes(job.patch));
    const bytes = commandBytes(entry.command);
    this.totalBytes += bytes - entry.bytes;
    entry.bytes = bytes;
    exchanged.forEach((patch) => this.queueCoding(entry, patch));
  }

  private queueCoding(entry: Entry, patch: VoxelPatch): void {
    const { values } = patch;
    if (values instanceof Uint8Array) this.coding.push({ entry, patch, raw: values, encoder: new RunEncoder(values) });
    while (this.waitingBytes() > MAX_WAITING_BYTES) this.codeSlice();
  }

  private codeSlice(): void {
    const job = this.coding[0];
    if (!job) return;
    job.encoder.encode(CODING_SLICE);
    // Noise codes into more bytes than it has (seen from the first slice on): then the raw values stay.
    const larger = job.encoder.projectedBytes >= job.raw.byteLength;
    if (!job.encoder.done && !larger) return;
    this.coding.shift();
    if (larger) return;
    job.patch.values = job.encoder.result();
    const bytes = commandBytes(job.entry.command);
    this.totalBytes += bytes - job.entry.bytes;
    job.entry.bytes = bytes;
  }

  /**
   * Forgets the oldest steps while over budget. Raw values waiting to be coded are not counted
   * (they shrink within moments, and MAX_WAITING_BYTES bounds them); the newest step always stays
   * undoable, even when it alone exceeds the budget.
   */
  private enforceBudget(): void {
    while (this.totalBytes - this.waitingBytes() > this.budgetBytes && this.done.length > 1) this.forget(this.done.shift()!);
  }

  private waitingBytes(): number {
    return this.coding.reduce((sum, job) => sum + job.raw.byteLength, 0);
  }

  private forget(entry: Entry): void {
    this.totalBytes -= entry.bytes;
    this.coding = this.coding.filter((job) => job.entry !== entry);
  }
}
