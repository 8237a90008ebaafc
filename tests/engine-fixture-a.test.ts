/**
 * Fidelity of the engine's decode path: fixture A's exported model (scripts/prepare-test-models.sh)
 * fed with the fixture's ROI and three clicks reproduces the official code's click-3 mask.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dice } from '../src/core/engine/evaluation';
import { decodePatch, type PatchPoint } from '../src/core/engine/patch-inference';
import type { ModelRunner } from '../src/core/model-runner';
import type { Vec3 } from '../src/core/types';
import { openModel } from '../src/cli/model-source';
import { readNpy } from './support/npy';
import { FIXTURE_A_DIR as FIXTURE } from './support/fixtures';

const MODEL = path.resolve('.cache/models/fixture-a');
const npy = (name: string) => readNpy(path.join(FIXTURE, name)).data;

describe('fixture A through the engine decode path', () => {
  let runner: ModelRunner;
  beforeAll(async () => {
    if (!existsSync(path.join(MODEL, 'decoder.onnx'))) throw new Error(`${MODEL} missing: run scripts/prepare-test-models.sh`);
    runner = await openModel({ modelDir: MODEL });
  });
  afterAll(() => runner?.dispose());

  it('reproduces logits_3 and mask_3 from the ROI and the three clicks', async () => {
    const embeddings = await runner.encode(npy('roi_image.npy') as Float32Array);
    let maskInput: Float32Array | undefined;
    let prediction;
    for (const k of [1, 2, 3]) {
      const coords = npy(`points_${k}.npy`);
      const labels = npy(`labels_${k}.npy`);
      const points: PatchPoint[] = Array.from(labels, (label, n) => ({
        position: [coords[3 * n], coords[3 * n + 1], coords[3 * n + 2]] as Vec3,
        positive: label === 1,
      }));
      prediction = await decodePatch(runner, embeddings, points, maskInput);
      maskInput = prediction.logits;
    }
    const reference = npy('logits_3.npy') as Float32Array;
    const largest = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const worst = reference.reduce((m, v, o) => Math.max(m, Math.abs(v - prediction!.logits[o])), 0);
    expect(worst).toBeLessThanOrEqual(1e-4 * largest);
    expect(dice(prediction!.mask, npy('mask_3.npy') as Uint8Array)).toBeGreaterThanOrEqual(0.999);
  });
});
