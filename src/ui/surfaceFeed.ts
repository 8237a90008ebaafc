/**
 * Feeds the 3D view from the labelmap: the one place the 3D view meets the segmentation state.
 * Each labelmap change (its changed box) is sent to the surface worker. Where the labelmap is
 * shared memory (cross-origin isolated page) the worker reads it directly and a change is one
 * message; otherwise it goes in slabs of blocks, one slab per main-thread task, with a copy of the
 * labels those blocks read. The worker answers with the new surfaces of the chunks that changed
 * (simplified for display where needed). While the 3D view is hidden, changes only accumulate.
 * Exports ask the worker for a label's full surface.
 */
import { readBox, unionBox, type VoxelBox } from '../core/segmentation/region';
import type { Segmentation } from '../core/segmentation/segmentation';
import { isShared } from '../core/shared-voxels';
import { blockInputBox, blocksTouchedBy, type BlockRange, type SurfaceMesh } from '../core/surface/surface-nets';
import { modelRunFlags } from '../services/inference';
import { currentSegmentation, onSegmentationReplaced } from '../services/segmentation';
import type { SurfaceChunk, SurfaceReply, SurfaceRequest } from '../workers/surface-protocol';

export interface SurfaceListener {
  /** New surfaces of some chunks; `changedAt` is when the oldest change they show happened. */
  chunks(chunks: readonly SurfaceChunk[], changedAt: number): void;
  /** Every surface is gone (another labelmap). */
  clear(): void;
}

export class SurfaceFeed {
  private readonly worker = new Worker(new URL('../workers/surface.worker.ts', import.meta.url), { type: 'module', name: 'surfaces' });
  private segmentation: Segmentation | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly stopReplaced: () => void;
  private generation = 0;
  private active = false;
  /** Changed voxels not yet sent, and when the oldest of those changes happened. */
  private dirty: VoxelBox | null = null;
  private dirtySince = 0;
  /** Slabs of blocks waiting to be sent, one per task. */
  private slabs: { blocks: BlockRange; changedAt: number }[] = [];
  private sendTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly surfaceRequests = new Map<number, (surface: SurfaceMesh) => void>();
  private nextRequest = 0;

  constructor(private readonly listener: SurfaceListener) {
    this.worker.onmessage = ({ data }: MessageEvent<SurfaceReply>) => {
      if (data.type === 'surface') {
        this.surfaceRequests.get(data.id)?.(data.surface);
        this.surfaceRequests.delete(data.id);
      } else if (data.generation === this.generation) {
        this.listener.chunks(data.chunks, data.changedAt);
      }
    };
    this.worker.postMessage({ type: 'model-runs', flags: modelRunFlags() } satisfies SurfaceRequest);
    this.stopReplaced = onSegmentationReplaced((segmentation) => this.attach(segmentation));
    this.attach(currentSegmentation());
  }

  /** The full-detail surface of a label as meshed so far (for an export; empty when it has none). */
  fullSurface(label: number): Promise<SurfaceMesh> {
    const id = this.nextRequest++;
    const request: SurfaceRequest = { type: 'surface', label, id };
    this.worker.postMessage(request);
    return new Promise((resolve) => this.surfaceRequests.set(id, resolve));
  }

  /** An inactive feed (3D view hidden) only notes what changed, and sends it when activated. */
  setActive(active: boolean): void {
    this.active = active;
    this.scheduleSend();
  }

  dispose(): void {
    this.unsubscribe?.();
    this.stopReplaced();
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    this.worker.terminate();
  }

  private attach(segmentation: Segmentation | null): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.segmentation = segmentation;
    this.generation++;
    this.dirty = null;
    this.slabs = [];
    this.listener.clear();
    if (!segmentation) return;
    const labels = isShared(segmentation.labels) ? segmentation.labels : null;
    const request: SurfaceRequest = { type: 'reset', geometry: segmentation.geometry, generation: this.generation, labels };
    this.worker.postMessage(request);
    this.unsubscribe = segmentation.subscribe((change) => change.box && this.noteChange(change.box));
    if (segmentation.segments.some((s) => segmentation.voxelCount(s.label) > 0)) {
      const [nx, ny, nz] = segmentation.geometry.size;
      this.noteChange({ min: [0, 0, 0], max: [nx - 1, ny - 1, nz - 1] });
    }
  }

  private noteChange(box: VoxelBox): void {
    const segmentation = this.segmentation;
    // The worker reads the shared labelmap: tell it at once, so it meshes while this task goes on
    // (the views draw the same change).
    if (segmentation && this.active && isShared(segmentation.labels)) {
      this.postBlocks(blocksTouchedBy(box, segmentation.geometry.size), performance.now());
      return;
    }
    if (!this.dirty) this.dirtySince = performance.now();
    this.dirty = unionBox(this.dirty, box);
    this.scheduleSend();
  }

  private scheduleSend(): void {
    if (this.sendTimer !== null || !this.active || (!this.dirty && this.slabs.length === 0)) return;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = null;
      this.sendNextSlab();
      this.scheduleSend();
    }, 0);
  }

  /**
   * Sends the changed blocks: all at once when the worker reads the shared labelmap, otherwise one
   * slab (one block deep along k) with a copy of its labels, a bounded copy per main-thread task.
   */
  private sendNextSlab(): void {
    const segmentation = this.segmentation;
    if (!segmentation || !this.active) return;
    if (this.slabs.length === 0 && this.dirty) {
      const blocks = blocksTouchedBy(this.dirty, segmentation.geometry.size);
      if (isShared(segmentation.labels)) {
        this.postBlocks(blocks, this.dirtySince);
        this.dirty = null;
        return;
      }
      for (let k = blocks.min[2]; k <= blocks.max[2]; k++) {
        this.slabs.push({
          blocks: { min: [blocks.min[0], blocks.min[1], k], max: [blocks.max[0], blocks.max[1], k] },
          changedAt: this.dirtySince,
        });
      }
      this.dirty = null;
    }
    const slab = this.slabs.shift();
    if (!slab) return;
    const box = blockInputBox(slab.blocks, segmentation.geometry.size);
    const data = readBox(segmentation.labels, segmentation.geometry.size, box);
    const request: SurfaceRequest = {
      type: 'update',
      region: { box, data },
      blocks: slab.blocks,
      generation: this.generation,
      changedAt: slab.changedAt,
    };
    this.worker.postMessage(request, [data.buffer]);
  }

  /** Asks the worker to re-mesh `blocks` from the shared labelmap. */
  private postBlocks(blocks: BlockRange, changedAt: number): void {
    const request: SurfaceRequest = { type: 'update', region: null, blocks, generation: this.generation, changedAt };
    this.worker.postMessage(request);
  }
}
