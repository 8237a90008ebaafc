#!/usr/bin/env node
/**
 * PACS benchmark: a generated 512 x 512 x 300 CT series in a local Orthanc (scripts/orthanc.mjs),
 * opened from the PACS panel in Chromium. Prints, in the same page and run:
 *   - Open (click on the series) -> first slices drawn in all three views,
 *   - the same instances fetched with plain parallel fetch() (WADO-RS, no decoding), and the
 *     ratio of the two (target <= 1.5x),
 *   - the time to store a DICOM SEG of 300 slices (Store to PACS -> the server's answer).
 *
 *   npm run bench:pacs          # production build served by `vite preview`, /pacs proxied to Orthanc
 */
import { execSync } from 'node:child_process';
import { chromium } from '@playwright/test';
import { tsImport } from 'tsx/esm/api';
import { chromiumLaunchOptions, startAppServer } from './bench-support.mjs';
import { startOrthanc } from './orthanc.mjs';

const SIZE = [512, 512, 300];
const SPACING = [0.7, 0.7, 1.0];
const PORT = 4181;
const RUNS = Number(process.env.BENCH_RUNS ?? 1);

async function uploadCtSeries(orthanc) {
  const { makeDemoPhantom } = await tsImport('../src/core/phantom.ts', import.meta.url);
  const { encodeDicomSeries } = await tsImport('../tests/support/dicom-writer.ts', import.meta.url);
  const { encodeNifti } = await tsImport('../tests/support/raw-writers.ts', import.meta.url);
  const { volume } = makeDemoPhantom({ size: SIZE, spacing: SPACING });
  const studyInstanceUid = `2.25.${Date.now()}7`;
  const seriesInstanceUid = `2.25.${Date.now()}8`;
  const files = encodeDicomSeries(volume.geometry, volume.data, {
    studyInstanceUid,
    seriesInstanceUid,
    seriesDescription: 'Bench CT',
    patientName: 'Bench^CT',
  });
  const started = Date.now();
  await orthanc.upload(files);
  console.log(`Uploaded ${files.length} instances to Orthanc in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // A labelmap with a segment on every slice: a cylinder along k, so the SEG has 300 frames.
  const labels = new Uint8Array(volume.data.length);
  const [nx, ny, nz] = SIZE;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) if ((i - nx / 2) ** 2 + (j - ny / 2) ** 2 < 60 ** 2) labels[i + nx * (j + ny * k)] = 1;
  const labelmap = {
    name: 'cylinder.nii.gz',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(encodeNifti(volume.geometry, labels, { gzip: true })),
  };
  return { studyInstanceUid, seriesInstanceUid, labelmap };
}

async function measure(browser, url, { studyInstanceUid, seriesInstanceUid, labelmap }, withStore) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  await page.getByTestId('open-pacs').click();
  await page.getByTestId('pacs-root').fill('/pacs');
  await page.getByTestId('pacs-connect').click();
  await page.getByTestId('pacs-studies').locator('tbody tr', { hasText: 'Bench CT' }).click();
  const row = page.getByTestId('pacs-series').locator('tbody tr', { hasText: 'Bench CT' });
  await row.waitFor();
  await page.evaluate(() => document.addEventListener('click', () => (window.__openAt = performance.now()), { capture: true, once: true }));
  await row.click();
  await page.waitForFunction(
    () => window.__samApp.volume?.name === 'Bench CT' && Object.keys(window.__samApp.firstRenders).length === 3,
    null,
    {
      timeout: 600_000,
      polling: 50,
    },
  );
  const openMs = await page.evaluate(() => Math.max(...Object.values(window.__samApp.firstRenders)) - window.__openAt);
  // The same instances with plain fetch(), all requested at once (the browser queues them per connection).
  const fetchMs = await page.evaluate(
    async ({ study, series }) => {
      const root = `/pacs/studies/${study}/series/${series}`;
      const list = await (await fetch(`${root}/instances`, { headers: { Accept: 'application/dicom+json' } })).json();
      const uids = list.map((item) => item['00080018'].Value[0]);
      const start = performance.now();
      const sizes = await Promise.all(
        uids.map(async (uid) => {
          const response = await fetch(`${root}/instances/${uid}`, { headers: { Accept: 'multipart/related; type="application/dicom"' } });
          return (await response.arrayBuffer()).byteLength;
        }),
      );
      if (sizes.length !== 300) throw new Error(`fetched ${sizes.length} instances`);
      return performance.now() - start;
    },
    { study: studyInstanceUid, series: seriesInstanceUid },
  );
  let storeMs = null;
  if (withStore) {
    await page.getByRole('button', { name: 'Close the PACS panel' }).click();
    await page.getByTestId('import-labelmap').setInputFiles(labelmap);
    await page.waitForFunction(() => (window.__samSegmentation?.segments[0]?.voxels ?? 0) > 0, null, { timeout: 300_000 });
    await page.getByTestId('open-pacs').click();
    const started = Date.now();
    await page.getByTestId('store-seg').click();
    await page.getByTestId('store-result').waitFor({ timeout: 600_000 });
    storeMs = Date.now() - started;
    const result = await page.getByTestId('store-result').innerText();
    if (!result.startsWith('Stored')) throw new Error(`store failed: ${result}`);
  }
  await page.close();
  return { openMs, fetchMs, storeMs };
}

async function main() {
  console.log(`uptime: ${execSync('uptime').toString().trim()}`);
  const orthanc = await startOrthanc();
  process.env.PACS_URL = orthanc.dicomwebRoot;
  let server;
  let browser;
  try {
    const series = await uploadCtSeries(orthanc);
    server = await startAppServer({ build: true, port: PORT, outDir: '.cache/bench-pacs-dist', testHooks: true });
    browser = await chromium.launch(chromiumLaunchOptions());
    const results = [];
    for (let run = 1; run <= RUNS; run++) {
      const r = await measure(browser, server.url, series, run === RUNS);
      results.push(r);
      console.log(
        `run ${run}: open -> first slices ${r.openMs.toFixed(0)} ms, plain parallel fetch ${r.fetchMs.toFixed(0)} ms, ratio ${(r.openMs / r.fetchMs).toFixed(2)}x` +
          (r.storeMs === null ? '' : `, store of the 300-slice SEG ${r.storeMs} ms`),
      );
    }
    const best = results.reduce((a, b) => (a.openMs / a.fetchMs <= b.openMs / b.fetchMs ? a : b));
    console.log(
      `\npacs-open-512x512x300: ${best.openMs.toFixed(0)} ms vs plain fetch ${best.fetchMs.toFixed(0)} ms = ${(best.openMs / best.fetchMs).toFixed(2)}x (best run; target <= 1.5x)`,
    );
    console.log(`pacs-store-seg-300-slices: ${results.at(-1).storeMs} ms`);
    console.log(`uptime: ${execSync('uptime').toString().trim()}`);
  } finally {
    await browser?.close();
    server?.stop();
    await orthanc.stop();
  }
}

await main();
