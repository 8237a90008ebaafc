import type { Segment } from './segments';
import { type VoxelPatch, patchBytes } from './voxel-patch';

/** One undoable step: the voxels it changed (if any) and the segment table before and after it. */
export interface EditCommand {
  name: string;
  patch: VoxelPatch | null;
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
  const patch = command.patch ? patchBytes(command.patch) : 0;
  return patch + tableBytes(command.segmentsBefore) + tableBytes(command.segmentsAfter);
}

export const DEFAULT_HISTORY_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Linear undo/redo stack with a memory budget: when the commands' total size exceeds it, the oldest
 * are forgotten (they can no longer be undone), so memory stays bounded whatever the session length
 * (by the budget, or by the newest step when that alone is larger).
 */
export class EditHistory {
  private done: { command: EditCommand; bytes: number }[] = [];
  private undone: { command: EditCommand; bytes: number }[] = [];
  private totalBytes = 0;

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

  get undoCount(): number {
    return this.done.length;
  }

  /** Records a new command; the redo branch is discarded. */
  push(command: EditCommand): void {
    for (const entry of this.undone) this.totalBytes -= entry.bytes;
    this.undone = [];
    const bytes = commandBytes(command);
    this.done.push({ command, bytes });
    this.totalBytes += bytes;
    // The newest step always stays undoable, even when it alone exceeds the budget.
    while (this.totalBytes > this.budgetBytes && this.done.length > 1) {
      this.totalBytes -= this.done.shift()!.bytes;
    }
  }

  /** The command to revert, moved to the redo stack. */
  undo(): EditCommand | null {
    const entry = this.done.pop();
    if (!entry) return null;
    this.undone.push(entry);
    return entry.command;
  }

  /** The command to apply again, moved back to the undo stack. */
  redo(): EditCommand | null {
    const entry = this.undone.pop();
    if (!entry) return null;
    this.done.push(entry);
    return entry.command;
  }

  clear(): void {
    this.done = [];
    this.undone = [];
    this.totalBytes = 0;
  }
}
