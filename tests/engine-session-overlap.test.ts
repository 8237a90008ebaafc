/**
 * Clicks where sliding-window patches overlap, with the oracle model: every patch holding the
 * click must hear it, or the voxels that the other patch decides keep its stale answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexToWorld, voxelIndex, worldToIndex } from '../src/core/geometry';
import { SegmentationSession, type PatchProgress } from '../src/core/engine/session';
import type { ModelRunner } from '../src/core/model-runner';
import { makeShapeLabels, makeShapePhantom, type PhantomShape } from '../src/core/phantom';
import { PATCH_SIZE, sourceToModel } from '../src/core/resample';
import type { Vec3 } from '../src/core/types';
import { openModel } from '../src/cli/model-source';
import { centredGeometry, curvedTubePoints, oracleModelDir, rotation, voxelAt } from './support/engine-fixtures';

let runner: ModelRunner;
beforeAll(async () => {
  runner = await openModel({ modelDir: oracleModelDir() });
});
afterAll(() => runner?.dispose());

describe('a click in the overlap of two patches', () => {
  const geometry = centredGeometry([150, 110, 90], [2, 2, 2], rotation(-0.15, 0.05));
  const points = curvedTubePoints();
  const tube: PhantomShape = { kind: 'tube', points, radius: 12, value: 400 };
  const volume = makeShapePhantom(geometry, [tube]);
  const inTube = makeShapeLabels(geometry, [tube]).data;

  it('is applied by both patches: a negative click clears the tube all around it', async () => {
    const session = new SegmentationSession(volume, runner, { volumeId: 'overlap' });
    const progress: PatchProgress[] = [];
    await session.addClick('tube', voxelAt(geometry, points[27]), true, { onProgress: (p) => progress.push(p) });
    // The clicked patch and its first neighbour: the click goes on the plane half-way between their centres.
    const [first, second] = progress.map((p) => p.offset);
    const axis = [0, 1, 2].find((a) => first[a] !== second[a]) as number;
    const middle = (first[axis] + second[axis]) / 2 + PATCH_SIZE / 2;
    const model = (world: Vec3) => sourceToModel(session.grid, worldToIndex(geometry, world));
    const onPlane = points.reduce((best, p) => (Math.abs(model(p)[axis] - middle) < Math.abs(model(best)[axis] - middle) ? p : best));
    const negative = voxelAt(geometry, onPlane);

    const result = await session.addClick('tube', negative, false);
    const clickWorld = indexToWorld(geometry, negative);
    let near = 0;
    let kept = 0;
    inTube.forEach((label, offset) => {
      if (!label) return;
      const world = indexToWorld(geometry, voxelIndex(geometry.size, offset));
      if (Math.hypot(world[0] - clickWorld[0], world[1] - clickWorld[1], world[2] - clickWorld[2]) > 10) return;
      near++;
      kept += result.mask.data[offset];
    });
    expect(near).toBeGreaterThan(100);
    expect(kept).toBe(0);
  });
});
