/**
 * The click session (src/services/clickSession.ts) with the real inference service on
 * onnxruntime-web's WASM backend and the oracle model (segments the bright object under a
 * positive click): a click is one labelmap transaction, whatever happens to it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dice } from '../src/core/engine/evaluation';
import { makeShapeLabels, makeShapePhantom, type PhantomShape } from '../src/core/phantom';
import { Segmentation, type SegmentationChange } from '../src/core/segmentation/segmentation';
import type { SegmentPoint } from '../src/core/segmentation/segments';
import { OrtWebRunner } from '../src/inference/ort-web-runner';
import { ClickSession, type ClickPhase } from '../src/services/clickSession';
import { InferenceService } from '../src/workers/inference-service';
import { centredGeometry, curvedTubePoints, oracleModelDir, rotation, voxelAt } from './support/engine-fixtures';

// A long curved tube on a grid wider than one 192 mm model window: a click on it runs several patches.
const geometry = centredGeometry([150, 110, 90], [2, 2, 2], rotation(-0.15, 0.05));
const tube: PhantomShape = { kind: 'tube', points: curvedTubePoints(), radius: 12, value: 400 };
const volume = makeShapePhantom(geometry, [tube]);
const truth = makeShapeLabels(geometry, [tube]).data;
const middle = voxelAt(geometry, curvedTubePoints()[27]);
const nearMiddle = voxelAt(geometry, curvedTubePoints()[29]);

/** Decoder calls left before the simulated device loss (negative: none planned). */
let decodesBeforeLoss = -1;

/**
 * The real runner, except that one decode can fail the way a lost WebGPU device makes
 * onnxruntime-web fail (the message the runner's device-loss path recognises).
 */
async function runnerWithDeviceLoss(...args: Parameters<typeof OrtWebRunner.create>): Promise<OrtWebRunner> {
  const runner = await OrtWebRunner.create(...args);
  return new Proxy(runner, {
    get(target, key) {
      if (key === 'decode') {
        return (input: Parameters<OrtWebRunner['decode']>[0]) => {
          if (decodesBeforeLoss >= 0 && decodesBeforeLoss-- === 0) return Promise.reject(new Error('GPUDevice was lost: simulated'));
          return target.decode(input);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const service = new InferenceService(runnerWithDeviceLoss);
const clicks = new ClickSession(service);

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const labelMask = (segmentation: Segmentation, label: number) => segmentation.labels.map((v) => (v === label ? 1 : 0));

/** Resolves at the first part of a running click that changed voxels (the clicked slice alone may change none). */
function firstWrite(segmentation: Segmentation): Promise<void> {
  return new Promise((resolve) => {
    const stop = segmentation.subscribe((change) => {
      if (!change.box || change.reason !== 'edit') return;
      stop();
      resolve();
    });
  });
}

/** Resolves when the session reaches `phase` (e.g. the first part of a running click arrived). */
function reaches(phase: ClickPhase): Promise<void> {
  return new Promise((resolve) => {
    const stop = clicks.subscribe((state) => {
      if (state.phase !== phase) return;
      stop();
      resolve();
    });
  });
}

/** A labelmap with `count` segments, and a log of its changes. */
function labelmap(count = 1): { segmentation: Segmentation; changes: SegmentationChange[] } {
  const segmentation = new Segmentation(geometry);
  for (let n = 0; n < count; n++) segmentation.addSegment();
  const changes: SegmentationChange[] = [];
  segmentation.subscribe((change) => changes.push(change));
  return { segmentation, changes };
}

/** Undoes everything; returns how many steps there were. */
function undoAll(segmentation: Segmentation): number {
  let steps = 0;
  while (segmentation.undo()) steps++;
  return steps;
}

/** The labelmap a fresh object with exactly these points gives (the reference for replays). */
async function reference(label: number, points: SegmentPoint[]): Promise<Uint8Array> {
  const { segmentation } = labelmap(label);
  let outcome;
  for (const point of points) outcome = await clicks.click(segmentation, label, point.index, point.positive);
  expect(outcome?.phase).toBe('done');
  return labelMask(segmentation, label);
}

describe('click session (WASM backend, oracle model)', () => {
  beforeAll(async () => {
    const dir = oracleModelDir();
    const file = (name: string) => new Blob([readFileSync(join(dir, name))]);
    await service.loadModel({ kind: 'files', encoder: file('encoder.onnx'), decoder: file('decoder.onnx') });
    await service.setVolume('tube', geometry, volume.data.slice());
  });

  it('writes a multi-patch click part by part and undoes it in one step', async () => {
    const { segmentation, changes } = labelmap();
    const outcome = await clicks.click(segmentation, 1, middle, true);
    expect(outcome.phase).toBe('done');
    expect(outcome.result!.patchesRun).toBeGreaterThanOrEqual(3);
    // Each patch's part landed on the labelmap as it came, announced with its box.
    const parts = changes.filter((c) => c.reason === 'edit' && c.box);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(dice(labelMask(segmentation, 1), truth)).toBeGreaterThan(0.9);
    expect(segmentation.segment(1)?.points).toEqual([{ index: middle, positive: true }]);
    expect(clicks.state.phase).toBe('done');
    // One undo step for the click (then the added segment).
    expect(segmentation.undo()).toBe(true);
    expect(segmentation.voxelCount(1)).toBe(0);
    expect(segmentation.segment(1)?.points).toEqual([]);
    expect(undoAll(segmentation)).toBe(1);
  });

  it('a click again where an undone click was segments again (the worker replays the object)', async () => {
    const { segmentation } = labelmap(7);
    expect((await clicks.click(segmentation, 7, middle, true)).phase).toBe('done');
    const once = labelMask(segmentation, 7);
    expect(segmentation.undo()).toBe(true);
    expect(segmentation.voxelCount(7)).toBe(0);
    // The worker ran exactly these points before the undo: it must not take them as already done.
    expect((await clicks.click(segmentation, 7, middle, true)).phase).toBe('done');
    expect(sameBytes(labelMask(segmentation, 7), once)).toBe(true);
    // Undo, redo, then a second point: it extends what the redo restored.
    expect(segmentation.undo()).toBe(true);
    expect(segmentation.redo()).toBe(true);
    expect((await clicks.click(segmentation, 7, nearMiddle, false)).phase).toBe('done');
    const points = [
      { index: middle, positive: true },
      { index: nearMiddle, positive: false },
    ];
    expect(sameBytes(labelMask(segmentation, 7), await reference(8, points))).toBe(true);
  });

  it('a resync while a request runs keeps the object out of sync: the next request replays it', async () => {
    const points = [{ index: middle, positive: true }];
    // The page rolls the click back while the worker still runs it (a superseded or cancelled click).
    const first = await service.segment({ objectId: 'rolled-back', points }, () => service.resync('rolled-back'));
    expect(first.status).toBe('done');
    const again = await service.segment({ objectId: 'rolled-back', points });
    expect(again.status === 'done' && again.patchesRun).toBeGreaterThan(0);
  });

  it('a newer click wins: the older one is superseded and none of its parts stay', async () => {
    const { segmentation } = labelmap(2);
    const firstPart = reaches('decoding');
    const older = clicks.click(segmentation, 2, middle, true);
    await firstPart;
    // The older click wrote its first part; a second click on the same segment supersedes it and keeps both points.
    expect(segmentation.voxelCount(2)).toBeGreaterThan(0);
    const newer = clicks.click(segmentation, 2, nearMiddle, false);
    expect((await older).phase).toBe('superseded');
    expect((await newer).phase).toBe('done');
    const points = [
      { index: middle, positive: true },
      { index: nearMiddle, positive: false },
    ];
    expect(segmentation.segment(2)?.points).toEqual(points);
    expect(sameBytes(labelMask(segmentation, 2), await reference(3, points))).toBe(true);
    expect(segmentation.undo()).toBe(true);
    expect(segmentation.voxelCount(2)).toBe(0);
  });

  it('cancel rolls back: labelmap, counts and history exactly as before the click', async () => {
    const { segmentation } = labelmap(4);
    expect((await clicks.click(segmentation, 4, middle, true)).phase).toBe('done');
    const labels = segmentation.labels.slice();
    const count = segmentation.voxelCount(4);
    const historyBytes = segmentation.historyBytes;
    const written = firstWrite(segmentation);
    const running = clicks.click(segmentation, 3, middle, true);
    await written;
    expect(sameBytes(segmentation.labels, labels)).toBe(false);
    clicks.cancel();
    expect((await running).phase).toBe('cancelled');
    expect(sameBytes(segmentation.labels, labels)).toBe(true);
    expect(segmentation.voxelCount(4)).toBe(count);
    expect(segmentation.historyBytes).toBe(historyBytes);
    expect(segmentation.segment(4)?.points).toHaveLength(1);
    expect(segmentation.segment(3)?.points).toHaveLength(0);
    // The next undo takes back the click before.
    expect(segmentation.undo()).toBe(true);
    expect(segmentation.voxelCount(4)).toBe(0);
    // A brush stroke during a click rolls it back too (the click ends cancelled).
    expect(segmentation.redo()).toBe(true);
    const firstPartAgain = reaches('decoding');
    const interrupted = clicks.click(segmentation, 3, middle, true);
    await firstPartAgain;
    segmentation.beginStroke(3, false);
    segmentation.endStroke();
    expect((await interrupted).phase).toBe('cancelled');
    expect(sameBytes(segmentation.labels, labels)).toBe(true);
  });

  it('a device loss mid-click falls back and still ends as one undo step', async () => {
    const { segmentation } = labelmap(5);
    // The first patch decodes; the second decode meets the lost device.
    decodesBeforeLoss = 1;
    const outcome = await clicks.click(segmentation, 5, middle, true);
    expect(decodesBeforeLoss).toBe(-1);
    expect(outcome.phase).toBe('done');
    expect(sameBytes(labelMask(segmentation, 5), await reference(6, [{ index: middle, positive: true }]))).toBe(true);
    expect(segmentation.undo()).toBe(true);
    expect(segmentation.voxelCount(5)).toBe(0);
    expect(undoAll(segmentation)).toBe(5);
  });
});
