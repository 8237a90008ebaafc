#!/usr/bin/env node
/**
 * Click-to-segment benchmark in Chromium (production build), full-size ViT-B random-weight model,
 * on a 512 x 512 x 300 CT (the load benchmark's file). Prints: model load, first click without
 * pre-encoding (encoder + decoder), clicks with a cached embedding (decoder only; target <= 150 ms
 * click to updated overlay, i.e. the clicked patch's part drawn) with the default patch limit (8) and
 * with 1 patch, first click after pre-encoding, and the tab's memory. Each click also prints the time
 * to the whole mask: a target followed across patches arrives part by part.
 *
 *   npm run bench:segment                       # needs .cache/models/vit_b (see below)
 *   BENCH_URL=http://localhost:4173 npm run bench:segment
 *   BENCH_MODEL=DIR  (default .cache/models/vit_b: encoder.onnx, decoder.onnx, model.json)
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { chromiumLaunchOptions, root, startAppServer } from './bench-support.mjs';

const VOLUME = path.join(root, '.cache/bench/ct-512x512x300-int16.nii');
const MODEL = path.resolve(root, process.env.BENCH_MODEL ?? '.cache/models/vit_b');
const PORT = 4191;
const DECODE_CLICKS = 7;

const hook = (page, expression) => page.evaluate(`window.__samSegmentation.${expression}`);

/** Clicks voxel `index` in the axial view and waits until its mask is on the labelmap. */
async function click(page, index, pointsBefore) {
  const [x, y] = await page.evaluate((i) => window.__samSegmentation.screenPoint('axial', i), index);
  const box = await page.getByTestId('view-axial').boundingBox();
  const previous = await hook(page, 'inference.lastClick?.clickedAt ?? null');
  await page.mouse.click(box.x + x, box.y + y);
  await page.waitForFunction(
    ([n, previous]) => {
      const hook = window.__samSegmentation;
      return hook.segments.at(-1)?.points.length === n && !hook.inference.busy && (hook.inference.lastClick?.clickedAt ?? null) !== previous;
    },
    [pointsBefore + 1, previous],
    { timeout: 600_000, polling: 20 },
  );
  const last = await hook(page, 'inference.lastClick');
  return { ms: last.appliedAt - last.clickedAt, shownMs: last.shownAt - last.clickedAt, workerMs: last.workerMs, encoded: last.patchesEncoded };
}

const describe = (click) =>
  `${click.shownMs.toFixed(0)} ms click to updated overlay, ${click.ms.toFixed(0)} ms to the whole mask (worker ${click.workerMs.toFixed(0)} ms, ${click.encoded} patches encoded)`;

async function main() {
  for (const file of [VOLUME, path.join(MODEL, 'encoder.onnx'), path.join(MODEL, 'decoder.onnx')]) {
    if (!existsSync(file)) {
      console.error(`Missing ${path.relative(root, file)}: run \`npm run bench:load\` (the volume) and export a full-size random ViT-B model to ${path.relative(root, MODEL)} first.`);
      process.exit(1);
    }
  }
  const server = await startAppServer({ build: true, port: PORT, outDir: '.cache/bench-dist', testHooks: true });
  const browser = await chromium.launch(chromiumLaunchOptions(['--enable-unsafe-webgpu']));
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(server.url);
    await page.getByTestId('open-files-input').setInputFiles(VOLUME);
    await page.waitForFunction(() => Object.keys(window.__samApp?.firstRenders ?? {}).length === 3, null, { timeout: 300_000 });

    let started = Date.now();
    const files = ['encoder.onnx', 'decoder.onnx', 'model.json'].map((f) => path.join(MODEL, f)).filter(existsSync);
    await page.getByTestId('model-files').setInputFiles(files);
    await page.waitForFunction(() => window.__samSegmentation.inference.modelStatus !== 'loading' && window.__samSegmentation.inference.modelStatus !== 'none', null, { timeout: 600_000 });
    const inference = await hook(page, 'inference');
    if (inference.modelStatus !== 'ready') throw new Error(inference.message);
    console.log(`model ${path.relative(root, MODEL)}: loaded in ${((Date.now() - started) / 1000).toFixed(1)} s on ${inference.backend.backend} (${inference.backend.threads} threads); ${inference.backend.note}`);

    await page.getByTestId('tool-segment').click();
    const [cx, cy, cz] = [256, 256, 150];
    // Move in from outside the view so no pre-encoding starts before the first click.
    const first = await click(page, [cx, cy, cz], 0);
    console.log(`first click, no pre-encoding: ${describe(first)}`);

    // Clicks with a cached embedding, first with the default patch limit, then with 1 patch set in the Model panel.
    const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    let points = 1;
    const decodeClicks = async (label) => {
      const decodes = [];
      for (let n = 0; n < DECODE_CLICKS; n++) {
        const result = await click(page, [cx + 4 * points, cy, cz], points);
        points++;
        if (result.encoded > 0) console.log(`  (click ${points} encoded ${result.encoded} patches)`);
        decodes.push(result);
      }
      const [shownMs, clickMs, workerMs] = ['shownMs', 'ms', 'workerMs'].map((key) => median(decodes.map((d) => d[key])));
      console.log(`click with cached embedding, ${label}: median ${shownMs.toFixed(0)} ms click to updated overlay (target <= 150), ${clickMs.toFixed(0)} ms to the whole mask (worker ${workerMs.toFixed(0)} ms)`);
    };
    await decodeClicks(`patch limit ${await page.getByTestId('max-patches').inputValue()} (default)`);
    await page.getByTestId('max-patches').fill('1');
    await decodeClicks(`patch limit ${await page.getByTestId('max-patches').inputValue()}`);

    // A new segment far away: rest the pointer there until pre-encoding finishes, then click.
    await page.getByTestId('add-segment').click();
    const far = [cx - 150, cy - 120, cz];
    const [x, y] = await page.evaluate((i) => window.__samSegmentation.screenPoint('axial', i), far);
    const box = await page.getByTestId('view-axial').boundingBox();
    // Let a pre-encoding for where the pointer rested before settle, so the wait below is for this one.
    await page.waitForTimeout(2000);
    const before = await hook(page, 'inference.lastPreEncode?.at ?? null');
    started = Date.now();
    await page.mouse.move(box.x + x, box.y + y);
    await page.waitForFunction((t) => (window.__samSegmentation.inference.lastPreEncode?.at ?? null) !== t, before, { timeout: 600_000, polling: 50 });
    const { encoded } = await hook(page, 'inference.lastPreEncode');
    console.log(`pre-encoding while the pointer rests: ${((Date.now() - started) / 1000).toFixed(1)} s (${encoded ? 'encoded a patch' : 'a cached patch already served there'})`);
    const preEncoded = await click(page, far, 0);
    console.log(`first click after pre-encoding: ${describe(preEncoded)}`);

    const memory = await page.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes).catch(() => null);
    const cdp = await page.context().newCDPSession(page);
    const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics').catch(() => ({ metrics: [] }))).metrics.map((m) => [m.name, m.value]));
    const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
    console.log(`tab memory after the session: ${memory ? mb(memory) : 'n/a'} (measureUserAgentSpecificMemory, page + workers); main-thread JS heap ${metrics.JSHeapUsedSize ? mb(metrics.JSHeapUsedSize) : 'n/a'}`);
  } finally {
    await browser.close();
    server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
