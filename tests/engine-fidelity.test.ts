/**
 * Fidelity of the engine's decode path: each fidelity fixture's exported model
 * (scripts/prepare-test-models.sh) fed with the fixture's ROI and three clicks reproduces the
 * official code's click-3 mask.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dice } from '../src/core/engine/evaluation';
import { decodePatch, type PatchPoint } from '../src/core/engine/patch-inference';
import type { Vec3 } from '../src/core/types';
import { openModel } from '../src/cli/model-source';
import { FIDELITY_FIXTURES, readFixtureFloat32, readFixtureMask, skipAbsent } from './support/fixtures';

describe.each(FIDELITY_FIXTURES)('$name through the engine decode path', (fixture) => {
  it.skipIf(skipAbsent(fixture))('reproduces logits_3 and mask_3 from the ROI and the three clicks', async () => {
    const runner = await openModel({ modelDir: path.resolve(fixture.model) });
    try {
      const embeddings = await runner.encode(readFixtureFloat32(fixture, 'roi_image'));
      let maskInput: Float32Array | undefined;
      let prediction;
      for (const k of [1, 2, 3]) {
        const coords = readFixtureFloat32(fixture, `points_${k}`);
        const labels = readFixtureFloat32(fixture, `labels_${k}`);
        const points: PatchPoint[] = Array.from(labels, (label, n) => ({
          position: [coords[3 * n], coords[3 * n + 1], coords[3 * n + 2]] as Vec3,
          positive: label === 1,
        }));
        prediction = await decodePatch(runner, embeddings, points, maskInput);
        maskInput = prediction.logits;
      }
      const reference = readFixtureFloat32(fixture, 'logits_3');
      const largest = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const worst = reference.reduce((m, v, o) => Math.max(m, Math.abs(v - prediction!.logits[o])), 0);
      expect(worst).toBeLessThanOrEqual(1e-4 * largest);
      expect(dice(prediction!.mask, readFixtureMask(fixture, 'mask_3'))).toBeGreaterThanOrEqual(0.999);
    } finally {
      await runner.dispose();
    }
  });
});
