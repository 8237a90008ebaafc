/**
 * The engine in process with the oracle model on onnxruntime-node: patches, embedding cache,
 * several objects, sliding windows with progress and cancellation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingCache } from '../src/core/engine/embedding-cache';
import { dice } from '../src/core/engine/evaluation';
import { SegmentationSession, type PatchProgress } from '../src/core/engine/session';
import type { ModelRunner } from '../src/core/model-runner';
import { makeShapeLabels, makeShapePhantom, type PhantomShape } from '../src/core/phantom';
import { type VoxelBox, maskBounds, unionBox } from '../src/core/segmentation/region';
import { voxelIndex } from '../src/core/geometry';
import type { Vec3 } from '../src/core/types';
import { openModel } from '../src/cli/model-source';
import { centredGeometry, curvedTubePoints, oracleModelDir, rotation, voxelAt } from './support/engine-fixtures';

// 300 x 240 x 250 mm, oblique, anisotropic: wider than one 192 mm patch along every axis.
const geometry = centredGeometry([200, 160, 100], [1.5, 1.5, 2.5], rotation(0.25, 0.1));
const shapes: PhantomShape[] = [
  { kind: 'ellipsoid', center: [-20, 0, 0], radii: [30, 22, 26], value: 400 },
  { kind: 'ellipsoid', center: [45, 20, 10], radii: [18, 18, 18], value: 400 },
  { kind: 'ellipsoid', center: [-125, 0, -20], radii: [15, 15, 15], value: 400 },
];
const volume = makeShapePhantom(geometry, shapes);
const labels = makeShapeLabels(geometry, shapes).data;
const truth = (label: number) => labels.map((v) => (v === label ? 1 : 0));
const insideBox = (index: Vec3, box: VoxelBox) => index.every((v, a) => v >= box.min[a] && v <= box.max[a]);
const click = (n: number) => voxelAt(geometry, (shapes[n] as { center: Vec3 }).center);

let runner: ModelRunner;
beforeAll(async () => {
  runner = await openModel({ modelDir: oracleModelDir() });
});
afterAll(() => runner?.dispose());

describe('SegmentationSession with the oracle model', () => {
  it('segments the clicked object; a second click in the patch runs only the decoder', async () => {
    const session = new SegmentationSession(volume, runner, { volumeId: 'v' });
    const first = await session.addClick('a', click(0), true);
    expect(first.patchesEncoded).toBe(1);
    expect(first.mask.geometry).toBe(geometry);
    expect(dice(first.mask.data, truth(1))).toBeGreaterThan(0.95);
    const inside = voxelAt(geometry, [-20, 0, 15]);
    const second = await session.addClick('a', inside, true);
    expect(second.patchesEncoded).toBe(0);
    expect(second.patchesRun).toBe(1);
    expect(dice(second.mask.data, truth(1))).toBeGreaterThan(0.95);
  });

  it('keeps objects independent and opens a new patch for a far click', async () => {
    const session = new SegmentationSession(volume, runner, { volumeId: 'v' });
    const a = (await session.addClick('a', click(0), true)).mask.data.slice();
    const b = await session.addClick('b', click(1), true);
    expect(dice(b.mask.data, truth(2))).toBeGreaterThan(0.9);
    expect(Buffer.from(session.objectMask('a')?.data ?? []).equals(Buffer.from(a))).toBe(true);
    // A click on object 3, beyond the first patch: a new patch of object a.
    const far = await session.addClick('a', click(2), true);
    expect(far.patchesEncoded).toBe(1);
    expect(
      dice(
        far.mask.data,
        labels.map((v) => (v === 1 || v === 3 ? 1 : 0)),
      ),
    ).toBeGreaterThan(0.9);
  });

  it('a negative click removes the part it is on and keeps the rest', async () => {
    const session = new SegmentationSession(volume, runner, { volumeId: 'v' });
    const before = (await session.addClick('a', click(0), true)).mask.data.reduce((sum, v) => sum + v, 0);
    const negative = voxelAt(geometry, [-42, 0, 0]);
    const result = await session.addClick('a', negative, false);
    const after = result.mask.data.reduce((sum, v) => sum + v, 0);
    const [n0, n1] = geometry.size;
    expect(result.mask.data[negative[0] + n0 * (negative[1] + n1 * negative[2])]).toBe(0);
    expect(after).toBeLessThan(before * 0.95);
    expect(after).toBeGreaterThan(before * 0.5);
  });

  it('prepares the patch under the cursor: a first click near it runs only the decoder', async () => {
    const session = new SegmentationSession(volume, runner, { volumeId: 'prepared' });
    expect(await session.prepare(voxelAt(geometry, [-5, 8, -6]))).toBe(true);
    // The pointer resting a little further: the encoded patch already serves a click there.
    expect(await session.prepare(voxelAt(geometry, [-15, 3, -6]))).toBe(false);
    const result = await session.addClick('a', click(0), true);
    expect(result.patchesEncoded).toBe(0);
    expect(dice(result.mask.data, truth(1))).toBeGreaterThan(0.95);
    // far from the prepared patch: encodes its own
    expect((await session.addClick('b', click(2), true)).patchesEncoded).toBe(1);
  });

  it('shares embeddings through the cache across sessions of the same volume', async () => {
    const cache = new EmbeddingCache();
    await new SegmentationSession(volume, runner, { volumeId: 'v', cache }).addClick('a', click(0), true);
    const again = await new SegmentationSession(volume, runner, { volumeId: 'v', cache }).addClick('x', click(0), true);
    expect(again.patchesEncoded).toBe(0);
  });
});

describe('sliding windows', () => {
  const tubeGeometry = centredGeometry([150, 110, 90], [2, 2, 2], rotation(-0.15, 0.05));
  const tube: PhantomShape = { kind: 'tube', points: curvedTubePoints(), radius: 12, value: 400 };
  const tubeVolume = makeShapePhantom(tubeGeometry, [tube]);
  const tubeTruth = makeShapeLabels(tubeGeometry, [tube]).data;
  const middle = voxelAt(tubeGeometry, curvedTubePoints()[27]);

  it('follows a long object across patches, reporting each', async () => {
    const progress: PatchProgress[] = [];
    const session = new SegmentationSession(tubeVolume, runner, { volumeId: 't' });
    const result = await session.addClick('tube', middle, true, { onProgress: (p) => progress.push(p) });
    expect(result.patchesRun).toBeGreaterThanOrEqual(3);
    expect(progress.map((p) => p.patchesDone)).toEqual(Array.from({ length: result.patchesRun }, (_, n) => n + 1));
    expect(dice(result.mask.data, tubeTruth)).toBeGreaterThan(0.9);
  });

  it('stops at the patch limit', async () => {
    const session = new SegmentationSession(tubeVolume, runner, { volumeId: 't', maxPatches: 2 });
    const result = await session.addClick('tube', middle, true);
    expect(result.patchesRun).toBe(2);
    expect(dice(result.mask.data, tubeTruth)).toBeLessThan(0.9);
  });

  it('a click with its own patch limit overrides the session default', async () => {
    const progress: PatchProgress[] = [];
    const session = new SegmentationSession(tubeVolume, runner, { volumeId: 't' });
    const result = await session.addClick('tube', middle, true, { maxPatches: 1, onProgress: (p) => progress.push(p) });
    expect(result.patchesRun).toBe(1);
    expect(progress.map((p) => p.maxPatches)).toEqual([1]);
    // The next click without its own limit follows the tube again.
    const next = await session.addClick('tube', middle, true);
    expect(next.patchesRun).toBeGreaterThanOrEqual(3);
  });

  it('reports the boxes a click may change: the footprints of the patches it ran', async () => {
    const session = new SegmentationSession(tubeVolume, runner, { volumeId: 't' });
    // The box a click may have changed: the union of what its progress reports.
    const click = async (maxPatches?: number) => {
      let changed: VoxelBox | null = null;
      const result = await session.addClick('tube', middle, true, {
        maxPatches,
        onProgress: (p) => (changed = unionBox(changed, p.changed)),
      });
      return { ...result, changed: changed as VoxelBox | null };
    };
    const followed = await click();
    const size = tubeVolume.geometry.size;
    const voxels = (box: VoxelBox) => box.max.reduce((n, v, a) => n * (v - box.min[a] + 1), 1);
    expect(followed.changed).not.toBeNull();
    expect(maskBounds(followed.mask.data, size, followed.changed!)).toEqual(maskBounds(followed.mask.data, size));
    // One more click with a limit of 1: of the patches holding it only the nearest-centred runs, and
    // only its footprint is recomposed; the rest is untouched.
    const before = followed.mask.data.slice();
    const one = await click(1);
    expect(one.patchesRun).toBe(1);
    expect(voxels(one.changed!)).toBeLessThan(voxels(followed.changed!));
    const changedOutside = one.mask.data.some((v, o) => v !== before[o] && !insideBox(voxelIndex(size, o), one.changed!));
    expect(changedOutside).toBe(false);
  });

  it('can be cancelled between patches', async () => {
    const controller = new AbortController();
    const session = new SegmentationSession(tubeVolume, runner, { volumeId: 't' });
    const done: number[] = [];
    const run = session.addClick('tube', middle, true, {
      signal: controller.signal,
      onProgress: (p) => {
        done.push(p.patchesDone);
        controller.abort();
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(done).toEqual([1]);
    // The first patch's result stays; the session accepts the next click.
    expect(session.objectMask('tube')?.data.some((v) => v === 1)).toBe(true);
    const next = await session.addClick('tube', middle, true, { signal: new AbortController().signal });
    expect(next.patchesRun).toBeGreaterThanOrEqual(2);
  });
});

describe('EmbeddingCache', () => {
  it('evicts the least recently used entries beyond its byte budget', () => {
    const cache = new EmbeddingCache(3 * 400);
    const entry = () => new Float32Array(100);
    cache.set('a', entry());
    cache.set('b', entry());
    cache.set('c', entry());
    cache.get('a');
    cache.set('d', entry());
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')].every(Boolean)).toBe(true);
    expect(cache.usedBytes).toBe(1200);
    expect(EmbeddingCache.key('vol', [1, -2, 3])).not.toBe(EmbeddingCache.key('vol', [1, 2, 3]));
  });
});
