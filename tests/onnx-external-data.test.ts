/**
 * Weights moved out of an ONNX model as external data (what the app's runner does before creating
 * an onnxruntime-web session): the same graph, the same numbers, the original bytes as the data.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_WEIGHTS_PATH, externalizeWeights } from '../src/inference/onnx-external-data';
import { MINI } from './support/fixtures';

async function run(model: Uint8Array, externalData: { path: string; data: Uint8Array }[], feeds: Record<string, ortWeb.Tensor>) {
  const session = await ortWeb.InferenceSession.create(model, { externalData });
  try {
    const outputs = await session.run(feeds);
    return Object.fromEntries(session.outputNames.map((name) => [name, outputs[name].data as Float32Array]));
  } finally {
    await session.release();
  }
}

describe('externalizeWeights', () => {
  ortWeb.env.wasm.numThreads = 1;

  it('gives the mini encoder its weights as references into its own bytes, computing the same embeddings', async () => {
    const bytes = new Uint8Array(readFileSync(path.join(MINI.model, 'encoder.onnx')));
    const split = externalizeWeights(bytes)!;
    expect(split.weights).toEqual({ path: EMBEDDED_WEIGHTS_PATH, data: bytes });
    expect(split.weights.data).toBe(bytes);
    expect(split.model.length).toBeLessThan(bytes.length / 10);
    // Nothing large is left to move.
    expect(externalizeWeights(split.model)).toBeNull();
    const image = new ortWeb.Tensor(
      'float32',
      Float32Array.from({ length: 128 ** 3 }, (_, n) => Math.sin(n / 997)),
      [1, 1, 128, 128, 128],
    );
    const embedded = await run(bytes, [], { image });
    const external = await run(split.model, [split.weights], { image });
    const name = Object.keys(embedded)[0];
    expect(embedded[name].length).toBeGreaterThan(0);
    expect(Buffer.from(external[name].buffer).equals(Buffer.from(embedded[name].buffer))).toBe(true);
  });

  it('refuses bytes that are not a protobuf message with a clear error', () => {
    const bytes = new Uint8Array(readFileSync(path.join(MINI.model, 'decoder.onnx')));
    expect(() => externalizeWeights(bytes.subarray(0, bytes.length - 100))).toThrow(/Not an ONNX model/);
    expect(() => externalizeWeights(Uint8Array.from([0x0f, 1, 2, 3]))).toThrow(/Not an ONNX model/);
  });
});
