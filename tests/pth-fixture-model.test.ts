// Fixture A end to end without an exported model: the exporter's weight-free templates plus the
// official-layout checkpoint read in TypeScript must compute what the exported graphs compute,
// and match the official code's reference arrays.
import { execFileSync } from 'node:child_process';
import { existsSync, openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpointModel } from '../src/cli/checkpoint-model';
import { createOrtRunner } from '../src/core/engine/ort-runner';
import type { ModelRunner } from '../src/core/model-runner';
import { blobSource } from '../src/core/pth/byte-source';
import { Checkpoint } from '../src/core/pth/checkpoint';
import { createTemplateSessions, parseTemplateManifest } from '../src/core/pth/template-weights';
import { relativeError } from '../src/selftest/fidelity';
import { readNpyFloat32 } from './support/npy';
import { FIXTURE_A_DIR as FIXTURE } from './support/fixtures';

/** Exports of fixture A made by scripts/prepare-test-models.sh: optimized and plain encoder graphs. */
const EXPORTS = ['.cache/models/fixture-a', '.cache/models/fixture-a-plain'];
const EXPORT = EXPORTS[0];
const TEMPLATES = join(EXPORT, 'templates');

beforeAll(() => {
  if (!EXPORTS.every((dir) => existsSync(join(dir, 'templates', 'manifest.json')))) {
    execFileSync('bash', ['scripts/prepare-test-models.sh'], { stdio: 'ignore' });
  }
});

async function clicks(embeddings: Float32Array, runner: ModelRunner): Promise<{ logits: Float32Array; iou: number }[]> {
  const results = [];
  let maskInput: Float32Array = new Float32Array(32 ** 3);
  for (let k = 1; k <= 3; k++) {
    const points = readNpyFloat32(join(FIXTURE, `points_${k}.npy`)).data;
    const labels = readNpyFloat32(join(FIXTURE, `labels_${k}.npy`)).data;
    const result = await runner.decode({ embeddings, points, labels, maskInput });
    results.push(result);
    maskInput = result.logits;
  }
  return results;
}

describe.each(EXPORTS)('fixture A from checkpoint + %s/templates (onnxruntime-node, CLI path)', (dir) => {
  let exported: ModelRunner;
  let fromCheckpoint: ModelRunner;

  beforeAll(async () => {
    const session = async (file: string) => ortNode.InferenceSession.create(join(dir, file));
    exported = createOrtRunner(ortNode.Tensor, await session('encoder.onnx'), await session('decoder.onnx'));
    fromCheckpoint = await openCheckpointModel(join(FIXTURE, 'checkpoint.pth'), join(dir, 'templates'));
  });

  afterAll(async () => {
    await exported?.dispose();
    await fromCheckpoint?.dispose();
  });

  it('equals the exported graphs within 1e-6 and the reference arrays within 1e-4', async () => {
    const image = readNpyFloat32(join(FIXTURE, 'roi_image.npy')).data;
    const embeddings = await fromCheckpoint.encode(image);
    expect(relativeError(embeddings, await exported.encode(image))).toBeLessThanOrEqual(1e-6);
    expect(relativeError(embeddings, readNpyFloat32(join(FIXTURE, 'embeddings.npy')).data)).toBeLessThanOrEqual(1e-4);

    const ours = await clicks(embeddings, fromCheckpoint);
    const theirs = await clicks(embeddings, exported);
    for (let k = 1; k <= 3; k++) {
      const reference = readNpyFloat32(join(FIXTURE, `logits_${k}.npy`)).data;
      expect(relativeError(ours[k - 1].logits, theirs[k - 1].logits), `click ${k}`).toBeLessThanOrEqual(1e-6);
      expect(relativeError(ours[k - 1].logits, reference), `click ${k}`).toBeLessThanOrEqual(1e-4);
      const iou = readNpyFloat32(join(FIXTURE, `iou_${k}.npy`)).data[0];
      expect(Math.abs(ours[k - 1].iou - iou)).toBeLessThanOrEqual(1e-4 * Math.abs(iou));
    }
  });
});

describe('fixture A in onnxruntime-web (the browser path: a File and externalData)', () => {
  it('decodes like the exported decoder', async () => {
    const manifest = parseTemplateManifest(JSON.parse(await readFile(join(TEMPLATES, 'manifest.json'), 'utf8')));
    const checkpoint = await Checkpoint.open(blobSource(await openAsBlob(join(FIXTURE, 'checkpoint.pth'))));
    const sessions = await createTemplateSessions(manifest, checkpoint, async (graph, data) =>
      ortWeb.InferenceSession.create(await readFile(join(TEMPLATES, graph.model)), { externalData: [{ path: graph.weightsFile, data }] }),
    );
    const web = createOrtRunner(ortWeb.Tensor, sessions.get('encoder')!, sessions.get('decoder')!);
    const embeddings = readNpyFloat32(join(FIXTURE, 'embeddings.npy')).data;
    const [ours] = await clicks(embeddings, web);
    const webExported = createOrtRunner(
      ortWeb.Tensor,
      await ortWeb.InferenceSession.create(await readFile(join(EXPORT, 'encoder.onnx'))),
      await ortWeb.InferenceSession.create(await readFile(join(EXPORT, 'decoder.onnx'))),
    );
    const [theirs] = await clicks(embeddings, webExported);
    expect(relativeError(ours.logits, theirs.logits)).toBeLessThanOrEqual(1e-6);
    expect(relativeError(ours.logits, readNpyFloat32(join(FIXTURE, 'logits_1.npy')).data)).toBeLessThanOrEqual(1e-4);
    await web.dispose();
    await webExported.dispose();
  });
});
