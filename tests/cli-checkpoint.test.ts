/**
 * `sam-med3d segment|evaluate --checkpoint FILE.pth`: the official checkpoint format used as is,
 * with no exported model directory. Whatever the path, the sessions hold the same graph and the
 * same weights as the exported model, so masks must agree voxel for voxel.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../src/cli/evaluate';
import { readImageNode, writeImageNode } from '../src/io/node';
import { runSamMed3d, temporaryFolder } from './support/cli';
import { RAS, centredGeometry } from './support/engine-fixtures';
import { prepareVitB } from './support/vit-b-checkpoint';
import { MINI, readFixtureFloat32, readFixtureMask } from './support/fixtures';

const FIXTURE_MODEL = MINI.model; // scripts/prepare-test-models.sh
// One 128^3 patch of 1.5 mm: the in-repo fixture's synthetic body with blobs, and its reference mask as a label map.
const geometry = centredGeometry([128, 128, 128], [1.5, 1.5, 1.5], RAS);

let dir: string;
let image: string;
beforeAll(async () => {
  dir = temporaryFolder('sam-med3d-checkpoint-');
  image = path.join(dir, 'body.nii.gz');
  await writeImageNode({ geometry, data: readFixtureFloat32(MINI, 'roi_image') }, image);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `segment` with the given model options and two clicks; returns the mask's voxels. */
async function segmentWith(modelOptions: string[], out: string): Promise<Uint8Array> {
  // One patch: a random-weight model's mask runs to the patch edges and would be followed across 8.
  const clicks = ['--point', '51,45,58', '--negative', '70,45,58', '--max-patches', '1'];
  const run = await runSamMed3d(['segment', ...modelOptions, '--image', image, ...clicks, '--out', path.join(dir, out)]);
  expect(run.code, run.stderr).toBe(0);
  return Uint8Array.from((await readImageNode(path.join(dir, out))).data);
}

function expectSameMask(actual: Uint8Array, expected: Uint8Array): void {
  const foreground = expected.reduce((sum, v) => sum + (v ? 1 : 0), 0);
  expect(foreground).toBeGreaterThan(0); // a real segmentation, not an empty mask on both sides
  expect(foreground).toBeLessThan(expected.length);
  const differing = actual.reduce((sum, v, n) => sum + (v !== expected[n] ? 1 : 0), 0);
  expect(differing).toBe(0);
}

describe('the in-repo fixture checkpoint with its templates', () => {
  it('segment --checkpoint --templates equals segment --model, voxel for voxel', async () => {
    const fromCheckpoint = await segmentWith(
      ['--checkpoint', MINI.checkpoint, '--templates', path.join(FIXTURE_MODEL, 'templates')],
      'checkpoint.nii.gz',
    );
    expectSameMask(fromCheckpoint, await segmentWith(['--model', FIXTURE_MODEL], 'model.nii.gz'));
  });

  it('evaluate --checkpoint reports what evaluate --model reports', async () => {
    const images = path.join(dir, 'images');
    const labels = path.join(dir, 'labels');
    mkdirSync(images);
    mkdirSync(labels);
    await writeImageNode({ geometry, data: readFixtureFloat32(MINI, 'roi_image') }, path.join(images, 'body.nii.gz'));
    await writeImageNode({ geometry, data: readFixtureMask(MINI, 'mask_3') }, path.join(labels, 'body.nii.gz'));
    const evaluate = async (modelOptions: string[], out: string): Promise<EvaluationReport> => {
      const run = await runSamMed3d([
        'evaluate',
        ...modelOptions,
        '--images',
        images,
        '--labels',
        labels,
        '--clicks',
        '2',
        '--max-patches',
        '1',
        '--out',
        path.join(dir, out),
      ]);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(readFileSync(path.join(dir, `${out}.json`), 'utf8')) as EvaluationReport;
    };
    const fromCheckpoint = await evaluate(
      ['--checkpoint', MINI.checkpoint, '--templates', path.join(FIXTURE_MODEL, 'templates')],
      'checkpoint',
    );
    const fromModel = await evaluate(['--model', FIXTURE_MODEL], 'model');
    expect(fromCheckpoint.cases.map((c) => c.dicePerClick)).toEqual(fromModel.cases.map((c) => c.dicePerClick));
    expect(fromCheckpoint.cases[0].clicks).toEqual(fromModel.cases[0].clicks);
  }, 300_000); // two CLI evaluations (image IO, distance maps): over 2 minutes on a loaded machine

  it('without --templates, the in-repo fixture does not fit the shipped turbo templates and says so', async () => {
    const run = await runSamMed3d([
      'segment',
      '--checkpoint',
      MINI.checkpoint,
      '--image',
      image,
      '--point',
      '51,45,58',
      '--out',
      path.join(dir, 'x.nii.gz'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /does not match the model templates.*image_encoder\.pos_embed is \[1, 8, 8, 8, 96\], expected \[1, 8, 8, 8, 768\]/,
    );
  });
});

describe('full-size ViT-B checkpoint with the shipped turbo templates', () => {
  let vitB: ReturnType<typeof prepareVitB>;
  beforeAll(() => {
    vitB = prepareVitB();
  }, 600_000);

  it('segment --checkpoint (default templates) equals segment --model on its export', async () => {
    const fromCheckpoint = await segmentWith(['--checkpoint', vitB.checkpoint], 'vit-b-checkpoint.nii.gz');
    expectSameMask(fromCheckpoint, await segmentWith(['--model', vitB.exportDir], 'vit-b-model.nii.gz'));
  }, 600_000);
});
