// The full-size ViT-B configuration (about 400 MB of float32 weights, random values) through the
// --checkpoint path: sessions built from the checkpoint and the exporter's templates must compute
// what the exported graphs compute. The checkpoint and its export are cached in .cache/pth-tests/vit-b
// (about a minute to make) and remade when the generator or the exporter changes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpointModel } from '../src/cli/checkpoint-model';
import { createOrtRunner } from '../src/core/engine/ort-runner';
import type { ModelRunner } from '../src/core/model-runner';

const DIR = '.cache/pth-tests/vit-b';
const CHECKPOINT = join(DIR, 'checkpoint.pth');
const EXPORT = join(DIR, 'export');

/** Hash of the given files' contents. */
function stampOf(files: string[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) hash.update(readFileSync(file));
  return hash.digest('hex');
}

/** Runs `make` unless `stampFile` holds `stamp` (then its outputs are up to date). */
function remakeUnlessStamped(stampFile: string, stamp: string, make: () => void): void {
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  make();
  writeFileSync(stampFile, stamp);
}

let exported: ModelRunner;
let fromCheckpoint: ModelRunner;

beforeAll(async () => {
  mkdirSync(DIR, { recursive: true });
  const generator = stampOf(['tests/support/pth-make-vit-b.py']);
  remakeUnlessStamped(join(DIR, 'checkpoint.stamp'), generator, () =>
    execFileSync('/usr/bin/python3', ['tests/support/pth-make-vit-b.py', '/work/shared/fixtures/sam-med3d/fixture-a/checkpoint.pth', CHECKPOINT]),
  );
  const exporter = ['models/export.py', ...readdirSync('models/sammed3d').filter((name) => name.endsWith('.py')).map((name) => join('models/sammed3d', name))];
  remakeUnlessStamped(join(DIR, 'export.stamp'), stampOf(exporter) + generator, () =>
    execFileSync('/usr/bin/python3', ['models/export.py', '--checkpoint', CHECKPOINT, '--out', EXPORT], { stdio: 'ignore' }),
  );
  exported = createOrtRunner(
    ort.Tensor,
    await ort.InferenceSession.create(join(EXPORT, 'encoder.onnx')),
    await ort.InferenceSession.create(join(EXPORT, 'decoder.onnx')),
  );
  fromCheckpoint = await openCheckpointModel(CHECKPOINT, join(EXPORT, 'templates'));
}, 600_000);

afterAll(async () => {
  await exported?.dispose();
  await fromCheckpoint?.dispose();
});

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    error = Math.max(error, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return error / scale;
}

describe('full-size ViT-B checkpoint through --checkpoint', () => {
  it('computes what the exported graphs compute', async () => {
    // A smooth synthetic patch: z-normalized-like values in [-2, 2].
    const image = Float32Array.from({ length: 128 ** 3 }, (_, i) => 2 * Math.sin(i * 0.001) * Math.cos(i * 0.0007));
    const embeddings = await fromCheckpoint.encode(image);
    const expectedEmbeddings = await exported.encode(image);
    expect(maxRelativeError(embeddings, expectedEmbeddings)).toBeLessThanOrEqual(1e-6);

    const input = { embeddings, points: Float32Array.of(64, 60, 70), labels: Float32Array.of(1), maskInput: new Float32Array(32 ** 3) };
    const ours = await fromCheckpoint.decode(input);
    const theirs = await exported.decode(input);
    expect(maxRelativeError(ours.logits, theirs.logits)).toBeLessThanOrEqual(1e-6);
    expect(ours.iou).toBeCloseTo(theirs.iou, 6);
  });
});
