/**
 * The experimental int8 encoder (models/export.py --int8) on the in-repo fidelity fixture, run by
 * onnxruntime-web's WASM backend (the app's): its embeddings and the masks of the fixture's three
 * clicks stay close to the official float32 outputs. Measured in onnxruntime-node against our fp32
 * graph: embeddings 8.5e-3 of their largest value, Dice 0.9992-0.9994 per click.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { dice } from '../src/core/engine/evaluation';
import { maskFromLogits } from '../src/core/engine/patch-inference';
import { embeddingShape, LOW_RES_SIZE } from '../src/core/model-runner';
import { PATCH_SIZE } from '../src/core/resample';
import { FIXTURE_CLICKS, relativeError } from '../src/selftest/fidelity';
import { MINI, readFixtureFloat32 } from './support/fixtures';

/** Largest |int8 - official| embedding difference, relative to the largest official value. */
const MAX_EMBEDDING_ERROR = 2e-2;
const MIN_DICE = 0.995;

describe('the int8 encoder on the in-repo fixture (onnxruntime-web WASM)', () => {
  const file = path.join(MINI.model, 'encoder_int8.onnx');

  it('was exported by scripts/prepare-test-models.sh and is listed in model.json', () => {
    expect(existsSync(file), `${file}: run bash scripts/prepare-test-models.sh`).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(MINI.model, 'model.json'), 'utf8'));
    expect(manifest.encoder_int8.file).toBe('encoder_int8.onnx');
    expect(manifest.encoder_int8.outputs).toEqual(manifest.encoder.outputs);
  });

  it('gives embeddings and click masks close to the official float32 ones', async () => {
    ort.env.wasm.numThreads = 1;
    const encoder = await ort.InferenceSession.create(readFileSync(file));
    const decoder = await ort.InferenceSession.create(readFileSync(path.join(MINI.model, 'decoder.onnx')));
    const f = (name: string) => readFixtureFloat32(MINI, name);
    const image = new ort.Tensor('float32', f('roi_image'), [1, 1, PATCH_SIZE, PATCH_SIZE, PATCH_SIZE]);
    const embeddings = (await encoder.run({ image })).embeddings.data as Float32Array;
    expect(relativeError(embeddings, f('embeddings'))).toBeLessThanOrEqual(MAX_EMBEDDING_ERROR);
    // Each click as in the official loop (the reference previous logits as the mask prompt), so
    // each Dice measures the encoder's deviation alone.
    let previous: Float32Array = new Float32Array(LOW_RES_SIZE ** 3);
    for (let k = 1; k <= FIXTURE_CLICKS; k++) {
      const labels = f(`labels_${k}`);
      const { low_res_logits } = await decoder.run({
        embeddings: new ort.Tensor('float32', embeddings, embeddingShape(embeddings.length)),
        point_coords: new ort.Tensor('float32', f(`points_${k}`), [1, labels.length, 3]),
        point_labels: new ort.Tensor('float32', labels, [1, labels.length]),
        mask_input: new ort.Tensor('float32', previous, [1, 1, LOW_RES_SIZE, LOW_RES_SIZE, LOW_RES_SIZE]),
      });
      const reference = f(`logits_${k}`);
      expect(dice(maskFromLogits(low_res_logits.data as Float32Array), maskFromLogits(reference))).toBeGreaterThanOrEqual(MIN_DICE);
      previous = reference;
    }
    await encoder.release();
    await decoder.release();
  });
});
