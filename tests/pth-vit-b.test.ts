// The full-size ViT-B configuration (about 400 MB of float32 weights, random values) through the
// --checkpoint path: sessions built from the checkpoint and the exporter's templates must compute
// what the exported graphs compute (checkpoint and export: tests/support/vit-b-checkpoint.ts).
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpointModel } from '../src/cli/checkpoint-model';
import { createOrtRunner } from '../src/core/engine/ort-runner';
import type { ModelRunner } from '../src/core/model-runner';
import { relativeError } from '../src/selftest/fidelity';
import { prepareVitB } from './support/vit-b-checkpoint';

let exported: ModelRunner;
let fromCheckpoint: ModelRunner;

beforeAll(async () => {
  const { checkpoint, exportDir } = prepareVitB();
  exported = createOrtRunner(
    ort.Tensor,
    await ort.InferenceSession.create(join(exportDir, 'encoder.onnx')),
    await ort.InferenceSession.create(join(exportDir, 'decoder.onnx')),
  );
  fromCheckpoint = await openCheckpointModel(checkpoint, join(exportDir, 'templates'));
}, 600_000);

afterAll(async () => {
  await exported?.dispose();
  await fromCheckpoint?.dispose();
});

describe('full-size ViT-B checkpoint through --checkpoint', () => {
  it('computes what the exported graphs compute', async () => {
    // A smooth synthetic patch: z-normalized-like values in [-2, 2].
    const image = Float32Array.from({ length: 128 ** 3 }, (_, i) => 2 * Math.sin(i * 0.001) * Math.cos(i * 0.0007));
    const embeddings = await fromCheckpoint.encode(image);
    const expectedEmbeddings = await exported.encode(image);
    expect(relativeError(embeddings, expectedEmbeddings)).toBeLessThanOrEqual(1e-6);

    const input = { embeddings, points: Float32Array.of(64, 60, 70), labels: Float32Array.of(1), maskInput: new Float32Array(32 ** 3) };
    const ours = await fromCheckpoint.decode(input);
    const theirs = await exported.decode(input);
    expect(relativeError(ours.logits, theirs.logits)).toBeLessThanOrEqual(1e-6);
    expect(ours.iou).toBeCloseTo(theirs.iou, 6);
  });
});
