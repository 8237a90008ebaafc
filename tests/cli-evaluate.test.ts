/**
 * `sam-med3d evaluate` with the oracle model: perfect on an object it can separate, lower on
 * objects it cannot (two touching objects of the same intensity), reported as JSON and CSV.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../src/cli/evaluate';
import { makeShapeLabels, makeShapePhantom, type PhantomShape } from '../src/core/phantom';
import { writeImageNode } from '../src/io/node';
import { runSamMed3d, temporaryFolder } from './support/cli';
import { RAS, centredGeometry, oracleModelDir } from './support/engine-fixtures';

// One patch exactly: 128^3 voxels of 1.5 mm in canonical RAS, so the click at the centre voxel
// puts the patch on the image and the model grid on the voxels (no resampling, no padding).
const geometry = centredGeometry([128, 128, 128], [1.5, 1.5, 1.5], RAS);
/** A bright slab across the image (29 voxels thick): its edge is a plane, which the oracle's 32^3 output renders exactly. */
const slab: PhantomShape[] = [{ kind: 'box', center: [0, 0, 0.75], halfSize: [500, 500, 21.1], value: 400 }];
/** Two touching boxes of the same intensity, labelled 2 and 5. */
const touching: PhantomShape[] = [
  { kind: 'box', center: [-20, 0, 0], halfSize: [20, 25, 25], value: 400 },
  { kind: 'box', center: [20, 0, 0], halfSize: [20, 25, 25], value: 400 },
];

let report: EvaluationReport;
let csv: string;
let stderr: string;
let dir: string;
beforeAll(async () => {
  dir = temporaryFolder('sam-med3d-evaluate-');
  const images = path.join(dir, 'images');
  const labels = path.join(dir, 'labels');
  mkdirSync(images);
  mkdirSync(labels);
  await writeImageNode(makeShapePhantom(geometry, slab), path.join(images, 'slab.nii.gz'));
  await writeImageNode(makeShapeLabels(geometry, slab), path.join(labels, 'slab.nii.gz'));
  await writeImageNode(makeShapePhantom(geometry, touching), path.join(images, 'touching.nii.gz'));
  const touchingLabels = makeShapeLabels(geometry, touching);
  touchingLabels.data = touchingLabels.data.map((v) => [0, 2, 5][v]);
  await writeImageNode(touchingLabels, path.join(labels, 'touching.nii.gz'));
  const out = path.join(dir, 'report');
  const run = await runSamMed3d([
    'evaluate',
    '--model',
    oracleModelDir(),
    '--images',
    images,
    '--labels',
    labels,
    '--clicks',
    '4',
    '--out',
    out,
  ]);
  expect(run.code, run.stderr).toBe(0);
  stderr = run.stderr;
  report = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as EvaluationReport;
  csv = readFileSync(`${out}.csv`, 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluate with the oracle model', () => {
  it('evaluates every label value of every image', () => {
    expect(report.cases.map((c) => [c.image, c.label])).toEqual([
      ['slab.nii.gz', 1],
      ['touching.nii.gz', 2],
      ['touching.nii.gz', 5],
    ]);
    expect(stderr).toMatch(/slab\.nii\.gz label 1: Dice/);
  });

  it('gives Dice 1.0 where the oracle can separate the object', () => {
    const separable = report.cases[0];
    expect(separable.clicks[0]).toEqual({ point: [64, 64, 64], positive: true });
    expect(separable.dicePerClick[0]).toBe(1);
    expect(separable.finalDice).toBe(1);
    expect(separable.diceAuc).toBe(1);
    expect(separable.nsd2mm).toBe(1);
  });

  it('gives lower numbers where it cannot, and corrective clicks are negative there', () => {
    for (const c of report.cases.slice(1)) {
      expect(c.dicePerClick[0]).toBeGreaterThan(0.5);
      expect(c.dicePerClick[0]).toBeLessThan(0.8);
      expect(c.clicks[1].positive).toBe(false);
      expect(c.finalDice).toBeLessThan(0.95);
      expect(c.diceAuc).toBeLessThan(0.95);
      expect(c.nsd2mm).toBeLessThan(0.95);
      expect(c.msPerClick).toHaveLength(c.clicks.length);
    }
    expect(report.overall.cases).toBe(3);
    expect(report.overall.meanFinalDice).toBeLessThan(1);
  });

  it('writes the same numbers as CSV, one row per object plus the overall row', () => {
    const rows = csv.trim().split('\n');
    expect(rows[0]).toBe('image,label,dice_click_1,dice_click_2,dice_click_3,dice_click_4,dice_auc,final_dice,nsd_2mm,mean_ms_per_click');
    expect(rows).toHaveLength(5);
    expect(rows[1].startsWith('"slab.nii.gz",1,1.0000,1.0000,1.0000,1.0000,1.0000,1.0000,1.0000,')).toBe(true);
    expect(rows[4].startsWith('overall,')).toBe(true);
  });
});
