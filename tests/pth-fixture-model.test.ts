// The fidelity fixtures end to end without an exported model: the exporter's weight-free templates plus the
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
import { FIDELITY_FIXTURES, MINI, readFixtureFloat32, skipAbsent, type FixtureFiles } from './support/fixtures';

/** Exports made by scripts/prepare-test-models.sh: optimized and plain encoder graphs. */
const exportsOf = (fixture: FixtureFiles) => [fixture.model, `${fixture.model}-plain`];

beforeAll(() => {
  if (!exportsOf(MINI).every((dir) => existsSync(join(dir, 'templates', 'manifest.json')))) {
    execFileSync('bash', ['scripts/prepare-test-models.sh'], { stdio: 'ignore' });
  }
});

async function clicks(
  fixture: FixtureFiles,
  embeddings: Float32Array,
  runner: ModelRunner,
): Promise<{ logits: Float32Array; iou: number }[]> {
  const results = [];
  let maskInput: Float32Array = new Float32Array(32 ** 3);
  for (let k = 1; k <= 3; k++) {
    const points = readFixtureFloat32(fixture, `points_${k}`);
    const labels = readFixtureFloat32(fixture, `labels_${k}`);
    const result = await runner.decode({ embeddings, points, labels, maskInput });
    results.push(result);
    maskInput = result.logits;
  }
  return results;
}

describe.each(FIDELITY_FIXTURES.flatMap((fixture) => exportsOf(fixture).map((dir) => ({ fixture, dir }))))(
  '$fixture.name from checkpoint + $dir/templates (onnxruntime-node, CLI path)',
  ({ fixture, dir }) => {
    let exported: ModelRunner;
    let fromCheckpoint: ModelRunner;

    beforeAll(async () => {
      if (!fixture.present) return;
      const session = async (file: string) => ortNode.InferenceSession.create(join(dir, file));
      exported = createOrtRunner(ortNode.Tensor, await session('encoder.onnx'), await session('decoder.onnx'));
      fromCheckpoint = await openCheckpointModel(fixture.checkpoint, join(dir, 'templates'));
    });

    afterAll(async () => {
      await exported?.dispose();
      await fromCheckpoint?.dispose();
    });

    it.skipIf(skipAbsent(fixture))('equals the exported graphs within 1e-6 and the reference arrays within 1e-4', async () => {
      const image = readFixtureFloat32(fixture, 'roi_image');
      const embeddings = await fromCheckpoint.encode(image);
      expect(relativeError(embeddings, await exported.encode(image))).toBeLessThanOrEqual(1e-6);
      expect(relativeError(embeddings, readFixtureFloat32(fixture, 'embeddings'))).toBeLessThanOrEqual(1e-4);

      const ours = await clicks(fixture, embeddings, fromCheckpoint);
      const theirs = await clicks(fixture, embeddings, exported);
      for (let k = 1; k <= 3; k++) {
        const reference = readFixtureFloat32(fixture, `logits_${k}`);
        expect(relativeError(ours[k - 1].logits, theirs[k - 1].logits), `click ${k}`).toBeLessThanOrEqual(1e-6);
        expect(relativeError(ours[k - 1].logits, reference), `click ${k}`).toBeLessThanOrEqual(1e-4);
        const iou = readFixtureFloat32(fixture, `iou_${k}`)[0];
        expect(Math.abs(ours[k - 1].iou - iou)).toBeLessThanOrEqual(1e-4 * Math.abs(iou));
      }
    });
  },
);

describe('the in-repo fixture in onnxruntime-web (the browser path: a File and externalData)', () => {
  it('decodes like the exported decoder', async () => {
    const templates = join(MINI.model, 'templates');
    const manifest = parseTemplateManifest(JSON.parse(await readFile(join(templates, 'manifest.json'), 'utf8')));
    const checkpoint = await Checkpoint.open(blobSource(await openAsBlob(MINI.checkpoint)));
    const sessions = await createTemplateSessions(manifest, checkpoint, async (graph, data) =>
      ortWeb.InferenceSession.create(await readFile(join(templates, graph.model)), { externalData: [{ path: graph.weightsFile, data }] }),
    );
    const web = createOrtRunner(ortWeb.Tensor, sessions.get('encoder')!, sessions.get('decoder')!);
    const embeddings = readFixtureFloat32(MINI, 'embeddings');
    const [ours] = await clicks(MINI, embeddings, web);
    const webExported = createOrtRunner(
      ortWeb.Tensor,
      await ortWeb.InferenceSession.create(await readFile(join(MINI.model, 'encoder.onnx'))),
      await ortWeb.InferenceSession.create(await readFile(join(MINI.model, 'decoder.onnx'))),
    );
    const [theirs] = await clicks(MINI, embeddings, webExported);
    expect(relativeError(ours.logits, theirs.logits)).toBeLessThanOrEqual(1e-6);
    expect(relativeError(ours.logits, readFixtureFloat32(MINI, 'logits_1'))).toBeLessThanOrEqual(1e-4);
    await web.dispose();
    await webExported.dispose();
  });
});
