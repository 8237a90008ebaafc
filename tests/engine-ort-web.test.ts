/**
 * One runner interface for both backends: the engine gives the same mask with onnxruntime-web
 * (its WASM backend, here in Node) as with onnxruntime-node.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { createOrtRunner } from '../src/core/engine/ort-runner';
import { SegmentationSession } from '../src/core/engine/session';
import type { ModelRunner } from '../src/core/model-runner';
import { makeShapePhantom } from '../src/core/phantom';
import { openModel } from '../src/cli/model-source';
import { centredGeometry, oracleModelDir, rotation, voxelAt } from './support/engine-fixtures';

async function webRunner(dir: string): Promise<ModelRunner> {
  ortWeb.env.wasm.numThreads = 1;
  const session = (name: string) => ortWeb.InferenceSession.create(readFileSync(path.join(dir, name)));
  return createOrtRunner(ortWeb.Tensor, await session('encoder.onnx'), await session('decoder.onnx'));
}

describe('onnxruntime-web and onnxruntime-node through ModelRunner', () => {
  it('give the same mask', async () => {
    const geometry = centredGeometry([100, 90, 70], [1.6, 1.6, 2.2], rotation(0.2, -0.1));
    const volume = makeShapePhantom(geometry, [{ kind: 'ellipsoid', center: [5, -5, 0], radii: [25, 20, 22], value: 300 }]);
    const masks: Uint8Array[] = [];
    for (const runner of [await openModel({ modelDir: oracleModelDir() }), await webRunner(oracleModelDir())]) {
      const session = new SegmentationSession(volume, runner, { volumeId: 'v' });
      masks.push((await session.addClick('o', voxelAt(geometry, [5, -5, 0]), true)).mask.data);
      await runner.dispose();
    }
    expect(masks[0].reduce((sum, v) => sum + v, 0)).toBeGreaterThan(5000);
    expect(Buffer.from(masks[1]).equals(Buffer.from(masks[0]))).toBe(true);
  });
});
