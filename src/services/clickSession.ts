/**
 * One click, one transaction. The click session owns the protocol with the inference worker for
 * clicks: a click opens a labelmap transaction, each part the worker streams (one per model window)
 * is written into it as it arrives, and the end commits it as one undo step together with the
 * segment's new points. A newer click supersedes a running one, cancel() cancels it, and a voxel
 * edit of the labelmap meanwhile (brush, undo, delete) rolls its transaction back and cancels it:
 * either way its labelmap writes are rolled back and nothing of it lands later.
 *
 *   idle -> encoding -> decoding -> done | cancelled | superseded | failed
 *
 * "encoding" lasts until the first part is on the labelmap (the worker encodes the patch unless
 * its embedding is cached, then decodes it); "decoding" while the parts of further patches land.
 * Parts are written slab by slab, a few slabs per main-thread task (see WRITE_BUDGET_MS).
 *
 * Plain TypeScript: the worker is anything with `segment` and `cancel` (the Comlink remote in the
 * app, the InferenceService itself in Node tests). Timings go to performance.mark/measure
 * ('sam:click', 'sam:click-first-part', 'sam:click-commit') for the benchmark.
 */
import { slabsNearest } from '../core/segmentation/region';
import type { LabelTransaction, Segmentation } from '../core/segmentation/segmentation';
import { type SegmentPoint, samePoints } from '../core/segmentation/segments';
import type { Vec3 } from '../core/types';
import { type MaskPart, PART_SLAB_VOXELS, type SegmentProgress, type SegmentRequest, type SegmentResult } from '../workers/inference-api';

export type ClickPhase = 'idle' | 'encoding' | 'decoding' | 'done' | 'cancelled' | 'superseded' | 'failed';

/** What the click session needs of the inference worker. */
export interface SegmentWorker {
  segment(request: SegmentRequest, onProgress?: (progress: SegmentProgress) => void | Promise<void>): Promise<SegmentResult>;
  cancel(): unknown;
  resync(objectId: string): unknown;
}

export interface ClickState {
  phase: ClickPhase;
  /** The segment and every point of the running click (drawn before its result comes). */
  label: number | null;
  points: readonly SegmentPoint[];
  patchesDone: number;
  /** Set when the click failed. */
  error: string | null;
}

export interface ClickOutcome {
  phase: 'done' | 'cancelled' | 'superseded' | 'failed';
  /** The worker's result of a click that is done. */
  result?: Extract<SegmentResult, { status: 'done' }>;
  error?: Error;
}

interface RunningClick {
  serial: number;
  /** Writes of parts still to run, in order. */
  writes: Promise<void>;
  segmentation: Segmentation;
  label: number;
  points: readonly SegmentPoint[];
  transaction: LabelTransaction;
  phase: ClickPhase;
}

const IDLE: ClickState = { phase: 'idle', label: null, points: [], patchesDone: 0, error: null };

/**
 * Main-thread time one task spends writing slabs before it yields, so the views draw between
 * tasks. Yielding after every slab (about 5 ms each) made each slab a frame of its own: a redraw
 * of the views it crosses and a composite, per slab.
 */
const WRITE_BUDGET_MS = 16;

/**
 * Voxels one write covers at most: a quarter of a part's slab. On a CPU the encoder kept busy, one
 * write of a whole slab (1M voxels, 4 ms on an idle CPU) took 60-70 ms, the page's longest task
 * (a trace of bench:segment's first click); quick writes still share tasks (WRITE_BUDGET_MS).
 */
const WRITE_SLAB_VOXELS = PART_SLAB_VOXELS / 4;

export class ClickSession {
  private running: RunningClick | null = null;
  private serial = 0;
  private readonly listeners = new Set<(state: ClickState) => void>();
  private stateNow: ClickState = IDLE;
  /** When the task writing slabs now began writing (see WRITE_BUDGET_MS). */
  private taskStart = -Infinity;
  /**
   * Each segment's points as of its last click done, per labelmap: what the worker ran last for
   * its object (unless it forgot the object since, which replays it anyway). An undo or redo moves
   * the segment's points without the worker, which takes a request whose points extend what it ran
   * as a continuation: undoing a click and clicking the same point again would then run nothing.
   */
  private readonly workerPoints = new WeakMap<Segmentation, Map<number, readonly SegmentPoint[]>>();

  /**
   * `wrapCallback` prepares the progress callback for the worker boundary (Comlink.proxy in the
   * app; identity when the worker is called directly).
   */
  constructor(
    private readonly worker: SegmentWorker,
    private readonly wrapCallback: <T extends object>(callback: T) => T = (callback) => callback,
  ) {}

  get state(): ClickState {
    return this.stateNow;
  }

  subscribe(listener: (state: ClickState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A positive or negative point for segment `label`: the segment's points plus this one run in
   * the worker. Points of a running click on the same segment count too (quick successive clicks
   * all stay); the running click is superseded.
   */
  click(
    segmentation: Segmentation,
    label: number,
    point: Vec3,
    positive: boolean,
    options: { maxPatches?: number } = {},
  ): Promise<ClickOutcome> {
    const previous = this.running;
    const base =
      previous && previous.segmentation === segmentation && previous.label === label
        ? previous.points
        : (segmentation.segment(label)?.points ?? []);
    const points = [...base, { index: point, positive }];
    if (previous) this.close(previous, 'superseded');
    const ran = this.workerPoints.get(segmentation)?.get(label);
    // The segment's points moved since the worker ran them: it replays the object from `points`.
    if (ran && !samePoints(ran, base)) void this.worker.resync(String(label));
    const click: RunningClick = {
      serial: ++this.serial,
      segmentation,
      label,
      points,
      // Another voxel edit (brush, undo, delete) rolls the transaction back: the click is cancelled.
      transaction: segmentation.begin('Segment', {
        onRollback: () => {
          if (this.running === click) {
            this.close(click, 'cancelled');
            void this.worker.cancel();
          }
        },
      }),
      phase: 'encoding',
      writes: Promise.resolve(),
    };
    this.running = click;
    performance.mark('sam:click', { detail: { serial: click.serial } });
    this.publish({ phase: 'encoding', label, points, patchesDone: 0, error: null });
    return this.run(click, options.maxPatches);
  }

  /** Cancels the running click: its parts are rolled back, the labelmap and history are as before it. */
  cancel(): void {
    const click = this.running;
    if (!click) return;
    this.close(click, 'cancelled');
    void this.worker.cancel();
  }

  private async run(click: RunningClick, maxPatches: number | undefined): Promise<ClickOutcome> {
    const request: SegmentRequest = { objectId: String(click.label), points: click.points, maxPatches };
    const onProgress = this.wrapCallback((progress: SegmentProgress) => {
      // A superseded or cancelled click's late parts never land.
      if (this.running !== click) return;
      if (progress.part) this.write(click, progress.part);
      // A patch comes in several parts: the state changes with the patch, not with each part.
      if (progress.patchesDone !== this.stateNow.patchesDone) this.publish({ ...this.stateNow, patchesDone: progress.patchesDone });
    });
    let retriedAfterDeviceLoss = false;
    try {
      for (;;) {
        const result = await this.worker.segment(request, onProgress);
        if (this.running !== click) return { phase: click.phase as ClickOutcome['phase'] };
        // The GPU device was lost and the worker is on its fallback backend now: the same request
        // again replays the object there, into the same transaction (still one undo step).
        if (result.status === 'device-lost' && !retriedAfterDeviceLoss) {
          retriedAfterDeviceLoss = true;
          continue;
        }
        if (result.status === 'device-lost') throw new Error(result.message);
        if (result.status !== 'done') {
          this.close(click, result.status);
          return { phase: result.status };
        }
        // What the parts did not say (where a replayed object was before).
        if (result.region) this.write(click, { region: result.region, mask: result.mask });
        await click.writes;
        if (this.running !== click) return { phase: click.phase as ClickOutcome['phase'] };
        click.transaction.commit({ label: click.label, points: click.points });
        const ran = this.workerPoints.get(click.segmentation) ?? new Map<number, readonly SegmentPoint[]>();
        this.workerPoints.set(click.segmentation, ran.set(click.label, click.points));
        performance.mark('sam:click-commit', {
          detail: {
            serial: click.serial,
            workerMs: result.milliseconds,
            decoderMs: result.decoderMs,
            patchesEncoded: result.patchesEncoded,
          },
        });
        this.close(click, 'done');
        return { phase: 'done', result };
      }
    } catch (error) {
      if (this.running !== click) return { phase: click.phase as ClickOutcome['phase'] };
      this.close(click, 'failed', (error as Error).message);
      return { phase: 'failed', error: error as Error };
    }
  }

  /**
   * Queues a part's writes into the click's transaction, slab by slab (k ranges of at most
   * WRITE_SLAB_VOXELS, nearest the click first). A slab goes in a new task once the current one has
   * written for WRITE_BUDGET_MS, so the views can draw between tasks.
   */
  private write(click: RunningClick, part: MaskPart): void {
    const { region, mask } = part;
    const sliceVoxels = (region.max[0] - region.min[0] + 1) * (region.max[1] - region.min[1] + 1);
    const slabs = slabsNearest(region, click.points.at(-1)!.index[2], WRITE_SLAB_VOXELS).map((box) => {
      const start = (box.min[2] - region.min[2]) * sliceVoxels;
      return { region: box, mask: mask.subarray(start, start + (box.max[2] - box.min[2] + 1) * sliceVoxels) };
    });
    for (const slab of slabs) {
      click.writes = click.writes.then(async () => {
        if (performance.now() - this.taskStart >= WRITE_BUDGET_MS) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          this.taskStart = performance.now();
        }
        if (this.running !== click) return;
        click.transaction.writeMask(click.label, slab);
        if (click.phase === 'encoding') {
          click.phase = 'decoding';
          performance.mark('sam:click-first-part', { detail: { serial: click.serial } });
          this.publish({ ...this.stateNow, phase: 'decoding' });
        }
      });
    }
  }

  /** Ends a click: anything but 'done' rolls its transaction back. */
  private close(click: RunningClick, phase: ClickPhase, error: string | null = null): void {
    click.phase = phase;
    this.running = null;
    if (phase !== 'done') {
      click.transaction.rollback();
      // The worker may have finished this click already: its object is ahead of the labelmap now.
      void this.worker.resync(String(click.label));
    }
    this.publish({ phase, label: click.label, points: click.points, patchesDone: this.stateNow.patchesDone, error });
  }

  private publish(state: ClickState): void {
    this.stateNow = state;
    for (const listener of this.listeners) listener(state);
  }
}
