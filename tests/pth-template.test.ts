// Sessions from weight-free templates + a checkpoint (models/TEMPLATES.md), in onnxruntime-node
// and onnxruntime-web: a tiny graph exercising every transform, compared with the same graph
// holding its weights inline (made by tests/support/pth-make-test-data.py).
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesSource } from '../src/core/pth/byte-source';
import { Checkpoint } from '../src/core/pth/checkpoint';
import { applyTransforms, createTemplateSessions, parseTemplateManifest } from '../src/core/pth/template-weights';
import { MINI } from './support/fixtures';

const DATA = '.cache/pth-tests';
const FOLDER = join(DATA, 'template');

beforeAll(() => {
  execFileSync('/usr/bin/python3', ['tests/support/pth-make-test-data.py', DATA, MINI.checkpoint], {
    stdio: 'inherit',
  });
});

const input = Float32Array.from({ length: 8 }, (_, i) => (i - 3.5) / 3);

async function runTiny(
  ort: typeof ortNode | typeof ortWeb,
  session: ortNode.InferenceSession | ortWeb.InferenceSession,
): Promise<Float32Array> {
  const results = await session.run({ x: new ort.Tensor('float32', input, [2, 4]) });
  return results.y.data as Float32Array;
}

describe('template transforms', () => {
  it('transposes, reshapes and slices in C order like numpy', () => {
    const tensor = { shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => i) };
    const transposed = applyTransforms(tensor, [{ op: 'transpose', perm: [2, 0, 1] }]);
    expect(transposed.shape).toEqual([4, 2, 3]);
    expect([...transposed.data.subarray(0, 6)]).toEqual([0, 4, 8, 12, 16, 20]);
    const sliced = applyTransforms(tensor, [
      { op: 'slice', axis: 2, start: 1, end: 3 },
      { op: 'reshape', shape: [12] },
    ]);
    expect([...sliced.data]).toEqual([1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22]);
    expect(() => applyTransforms(tensor, [{ op: 'reshape', shape: [5, 5] }])).toThrow(/cannot reshape/);
  });
});

describe('template sessions from a checkpoint', () => {
  it('compute what the graph with inline weights computes, in onnxruntime-node and -web', async () => {
    const manifest = parseTemplateManifest(JSON.parse(await readFile(join(FOLDER, 'manifest.json'), 'utf8')));
    const checkpoint = await Checkpoint.open(bytesSource(await readFile(join(FOLDER, 'checkpoint.pth'))));
    const template = await readFile(join(FOLDER, 'tiny.onnx'));
    const reference = await readFile(join(FOLDER, 'reference.onnx'));
    // Each runtime is compared with itself: their MatMul kernels round differently.
    for (const ort of [ortNode, ortWeb]) {
      const expected = await runTiny(ort, await ort.InferenceSession.create(reference));
      const sessions = await createTemplateSessions(manifest, checkpoint, (graph, data) =>
        ort.InferenceSession.create(template, { externalData: [{ path: graph.weightsFile, data }] }),
      );
      const actual = await runTiny(ort, sessions.get('tiny')!);
      expect([...actual]).toEqual([...expected]);
      expect(expected.some((value) => value !== 0)).toBe(true);
    }
  });

  it('refuses a checkpoint whose tensors do not match the templates', async () => {
    const manifest = parseTemplateManifest(JSON.parse(await readFile(join(FOLDER, 'manifest.json'), 'utf8')));
    const other = await Checkpoint.open(bytesSource(await readFile(join(DATA, 'mixed.pth'))));
    await expect(createTemplateSessions(manifest, other, () => Promise.resolve(null))).rejects.toThrow(
      /does not match the model templates .*missing layer\.weight/,
    );
  });
});
