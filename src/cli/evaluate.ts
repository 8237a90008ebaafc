/**
 * `sam-med3d evaluate`: a simulated user clicks every labelled object of every image; reports
 * Dice per click, Dice AUC, final Dice, NSD at 2 mm and time per click as JSON and CSV.
 */
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { diceAuc, dice, firstClick, nextClick, normalizedSurfaceDice, type SimulatedClick } from '../core/engine/evaluation';
import { EmbeddingCache } from '../core/engine/embedding-cache';
import { SegmentationSession } from '../core/engine/session';
import { formatFromName } from '../core/formats';
import type { Volume } from '../core/types';
import { readImageNode } from '../io/node';
import { CliError } from './errors';
import { openModel, type ModelSource } from './model-source';
import { checkOutputPath } from './segment';

export interface EvaluateArgs {
  model: ModelSource;
  images: string;
  labels: string;
  out: string;
  clicks: number;
  maxPatches: number;
}

export interface CaseResult {
  image: string;
  label: number;
  clicks: SimulatedClick[];
  dicePerClick: number[];
  diceAuc: number;
  finalDice: number;
  nsd2mm: number;
  msPerClick: number[];
}

export interface EvaluationReport {
  clicksPerObject: number;
  cases: CaseResult[];
  overall: {
    cases: number;
    meanDicePerClick: number[];
    meanDiceAuc: number;
    meanFinalDice: number;
    meanNsd2mm: number;
    meanMsPerClick: number;
  };
}

const NSD_TOLERANCE_MM = 2;
const mean = (values: number[]) => (values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length);

async function imageFiles(dir: string, option: string): Promise<string[]> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new CliError(`${option} ${dir}: not a folder`);
  const names = (await readdir(dir)).filter((name) => ['nifti', 'nrrd', 'metaimage'].includes(formatFromName(name))).sort();
  if (names.length === 0) throw new CliError(`${option} ${dir}: no .nii, .nii.gz, .nrrd or .mha images in it`);
  return names;
}

function labelValues(labels: Volume): number[] {
  const values = new Set<number>();
  for (const v of labels.data) if (v !== 0) values.add(Math.round(v));
  return [...values].sort((a, b) => a - b);
}

export async function evaluateCommand(args: EvaluateArgs): Promise<EvaluationReport> {
  const base = args.out.replace(/\.(json|csv)$/i, '');
  await checkOutputPath(`${base}.json`, /\.json$/, 'a report path');
  const names = await imageFiles(args.images, '--images');
  const labelNames = new Set(await imageFiles(args.labels, '--labels'));
  const missing = names.filter((name) => !labelNames.has(name));
  if (missing.length > 0)
    throw new CliError(`--labels ${args.labels}: no label file for ${missing.join(', ')} (same file names as the images)`);

  const runner = await openModel(args.model);
  const cases: CaseResult[] = [];
  try {
    const cache = new EmbeddingCache();
    for (const name of names) {
      const image = await readImageNode(path.join(args.images, name));
      const labels = await readImageNode(path.join(args.labels, name));
      if (!labels.geometry.size.every((n, a) => n === image.geometry.size[a])) {
        throw new CliError(
          `${name}: label size ${labels.geometry.size.join(' x ')} differs from image size ${image.geometry.size.join(' x ')}`,
        );
      }
      const session = new SegmentationSession(image, runner, { volumeId: name, cache, maxPatches: args.maxPatches });
      const { size: dims, spacing } = image.geometry;
      for (const value of labelValues(labels)) {
        const truth = Uint8Array.from(labels.data, (v) => (Math.round(v) === value ? 1 : 0));
        const result = await evaluateObject(session, `label-${value}`, truth, args.clicks);
        const finalMask = session.objectMask(`label-${value}`)?.data ?? new Uint8Array(truth.length);
        const nsd2mm = normalizedSurfaceDice(finalMask, truth, dims, spacing, NSD_TOLERANCE_MM);
        cases.push({
          image: name,
          label: value,
          ...result,
          diceAuc: diceAuc(result.dicePerClick),
          finalDice: result.dicePerClick.at(-1) ?? 0,
          nsd2mm,
        });
        session.removeObject(`label-${value}`);
        process.stderr.write(`${name} label ${value}: Dice ${result.dicePerClick.map((d) => d.toFixed(3)).join(' ')}\n`);
      }
    }
  } finally {
    await runner.dispose();
  }
  const report: EvaluationReport = {
    clicksPerObject: args.clicks,
    cases,
    overall: {
      cases: cases.length,
      meanDicePerClick: Array.from({ length: args.clicks }, (_, n) => mean(cases.map((c) => c.dicePerClick[n]))),
      meanDiceAuc: mean(cases.map((c) => c.diceAuc)),
      meanFinalDice: mean(cases.map((c) => c.finalDice)),
      meanNsd2mm: mean(cases.map((c) => c.nsd2mm)),
      meanMsPerClick: mean(cases.flatMap((c) => c.msPerClick)),
    },
  };
  await writeFile(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  await writeFile(`${base}.csv`, reportCsv(report));
  process.stdout.write(
    `${base}.json, ${base}.csv: ${cases.length} object(s), mean final Dice ${report.overall.meanFinalDice.toFixed(4)}, mean NSD@2mm ${report.overall.meanNsd2mm.toFixed(4)}\n`,
  );
  return report;
}

/** Clicks one object `clicks` times (stopping early once perfect: later clicks keep that Dice). */
async function evaluateObject(session: SegmentationSession, objectId: string, truth: Uint8Array, clicks: number) {
  const { size: dims, spacing } = session.volume.geometry;
  const made: SimulatedClick[] = [];
  const dicePerClick: number[] = [];
  const msPerClick: number[] = [];
  let prediction: Uint8Array | null = null;
  for (let n = 0; n < clicks; n++) {
    const click = prediction ? nextClick(prediction, truth, dims, spacing) : firstClick(truth, dims, spacing);
    if (!click) {
      dicePerClick.push(dicePerClick.at(-1) ?? 0);
      continue;
    }
    const started = performance.now();
    const result = await session.addClick(objectId, click.point, click.positive);
    msPerClick.push(performance.now() - started);
    prediction = result.mask.data;
    made.push(click);
    dicePerClick.push(dice(prediction, truth));
  }
  return { clicks: made, dicePerClick, msPerClick };
}

function reportCsv(report: EvaluationReport): string {
  const clickColumns = Array.from({ length: report.clicksPerObject }, (_, n) => `dice_click_${n + 1}`);
  const rows = [['image', 'label', ...clickColumns, 'dice_auc', 'final_dice', 'nsd_2mm', 'mean_ms_per_click'].join(',')];
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '');
  for (const c of report.cases) {
    rows.push(
      [JSON.stringify(c.image), c.label, ...c.dicePerClick.map(f), f(c.diceAuc), f(c.finalDice), f(c.nsd2mm), f(mean(c.msPerClick))].join(
        ',',
      ),
    );
  }
  const o = report.overall;
  rows.push(
    ['overall', '', ...o.meanDicePerClick.map(f), f(o.meanDiceAuc), f(o.meanFinalDice), f(o.meanNsd2mm), f(o.meanMsPerClick)].join(','),
  );
  return rows.join('\n') + '\n';
}
