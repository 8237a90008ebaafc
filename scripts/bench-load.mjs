#!/usr/bin/env node
/**
 * Load benchmark: opens a 512 x 512 x 300 int16 scan through the app's file input in Chromium,
 * as one NIfTI file and as a DICOM series of 300 files, and prints the time to the first rendered
 * slices (all three views), the longest main-thread task while opening (from the file input's
 * change event: the task it arrives in counts from there), and the references
 * measured in the same page and run: reading the same NIfTI file's bytes (File.arrayBuffer() plus
 * one min/max pass over its voxels).
 * Targets: NIfTI first slices <= 2.5x the raw read, no main-thread task > 100 ms, the DICOM
 * series <= 2x the NIfTI time. Prepares its volumes under .cache/bench/ (once).
 *
 *   npm run bench:load               # production build served by `vite preview`
 *   BENCH_URL=http://localhost:4173 npm run bench:load   # an already running server instead
 *   BENCH_RUNS=1 BENCH_PROFILE=1 npm run bench:load      # also a main-thread CPU profile per load
 *   BENCH_DICOM=0 npm run bench:load                     # the NIfTI file only
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { tsImport } from 'tsx/esm/api';
import { BENCH_SIZE as SIZE, benchPhantom, benchVolumePath, chromiumLaunchOptions, root, startAppServer } from './bench-support.mjs';

const PORT = 4180;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PROFILE = Boolean(process.env.BENCH_PROFILE);
const WITH_DICOM = process.env.BENCH_DICOM !== '0';
const benchDir = path.join(root, '.cache/bench');

/** The phantom as a DICOM series (one file per slice), written once to .cache/bench/. */
async function benchDicomPaths() {
  const dir = path.join(benchDir, `ct-${SIZE.join('x')}-dicom`);
  if (!existsSync(dir)) {
    console.log(`Generating ${path.relative(root, dir)}/ (${SIZE[2]} files, once)...`);
    const { encodeDicomSeries } = await tsImport('../tests/support/dicom-writer.ts', import.meta.url);
    const { geometry, data } = await benchPhantom(SIZE);
    const partial = `${dir}.partial`;
    mkdirSync(partial, { recursive: true });
    encodeDicomSeries(geometry, data, { seriesDescription: 'Bench CT' }).forEach((bytes, k) =>
      writeFileSync(path.join(partial, `IM${String(k + 1).padStart(4, '0')}.dcm`), bytes),
    );
    renameSync(partial, dir);
  }
  return readdirSync(dir)
    .sort()
    .map((name) => path.join(dir, name));
}

/** Installs the long-task and phase observers in a fresh page (times relative to its clock). */
async function observeOpening(page) {
  await page.evaluate(() => {
    const bench = { changeAt: 0, longTasks: [], phases: [] };
    window.__bench = bench;
    // Phase starts as the status bar shows them ("Reading ...", "Decoding ...", "Preparing ...").
    new MutationObserver(() => {
      const phase = document.querySelector('[data-testid="progress"] span')?.textContent?.split(' ')[0];
      if (phase && phase !== bench.phases.at(-1)?.phase) bench.phases.push({ phase, at: performance.now() });
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) bench.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    document.addEventListener(
      'change',
      (e) => {
        if (e.target.dataset?.testid === 'open-files-input') bench.changeAt = performance.now();
      },
      { capture: true },
    );
  });
}

/**
 * The reference: the NIfTI file's bytes read in the page (File.arrayBuffer()) and one min/max pass
 * over its int16 voxels, from a file input of the bench's own.
 */
async function measureRawRead(page, file) {
  await page.evaluate(() => {
    const input = Object.assign(document.createElement('input'), { type: 'file', id: 'bench-raw-read', hidden: true });
    document.body.append(input);
  });
  await page.setInputFiles('#bench-raw-read', file);
  return page.evaluate(async () => {
    const input = document.getElementById('bench-raw-read');
    const start = performance.now();
    const bytes = await input.files[0].arrayBuffer();
    const voxels = new Int16Array(bytes, new DataView(bytes).getFloat32(108, true));
    let min = Infinity;
    let max = -Infinity;
    for (let n = 0; n < voxels.length; n++) {
      const v = voxels[n];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const ms = performance.now() - start;
    input.remove();
    return { ms, min, max };
  });
}

/** Self time per function of a CPU profile, largest first. */
function topFunctions(profile, count = 15) {
  const self = new Map();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length) / 1000;
  for (const id of profile.samples) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + interval);
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, count);
}

/** Opens `files` through the app's file input in `page`; timings relative to the input's change event. */
async function measureOpen(page, files, expectedName, profileName) {
  await observeOpening(page);
  const cdp = PROFILE ? await page.context().newCDPSession(page) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
  }
  await page.getByTestId('open-files-input').setInputFiles(files);
  await page.waitForFunction(
    (n) => window.__samApp.volume?.name === n && Object.keys(window.__samApp.firstRenders).length === 3,
    expectedName,
    { timeout: 600_000, polling: 50 },
  );
  // Let the frame after the first render (and any follow-up work) finish before reading long tasks.
  await page.waitForTimeout(1500);
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    const out = path.join(benchDir, `${profileName}.cpuprofile`);
    writeFileSync(out, JSON.stringify(profile));
    console.log(`  main-thread profile ${path.relative(root, out)}; most self time:`);
    for (const [name, ms] of topFunctions(profile)) console.log(`    ${ms.toFixed(0).padStart(6)} ms  ${name}`);
  }
  return page.evaluate(() => {
    const { changeAt, longTasks, phases } = window.__bench;
    const renders = Object.values(window.__samApp.firstRenders);
    const after = longTasks.filter((t) => t.start + t.duration >= changeAt);
    const firstSlicesAt = Math.max(...renders);
    const steps = [
      { phase: 'Starting', at: changeAt },
      ...phases.filter((p) => p.at >= changeAt && p.at <= firstSlicesAt),
      { phase: 'Drawing', at: Math.min(...renders) },
      { phase: 'end', at: firstSlicesAt },
    ];
    return {
      firstSlicesMs: firstSlicesAt - changeAt,
      phases: steps
        .slice(0, -1)
        .map((p, n) => `${p.phase} ${Math.round(steps[n + 1].at - p.at)} ms`)
        .join(', '),
      // A task the change event came in counts from the event: before it the browser was making the
      // chosen files' File objects (a trace: 90 ms for 300 files, then 27 ms of the app's handler).
      longestTaskMs: Math.max(0, ...after.map((t) => t.start + t.duration - Math.max(t.start, changeAt))),
      longTasks: after.map((t) => ({ at: Math.round(t.start - changeAt), ms: Math.round(t.duration) })), // as observed
    };
  });
}

async function newAppPage(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => console.log(`  page error: ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.__samApp !== undefined);
  // Let the page finish starting up (the views compile their shaders while it is idle), so its own
  // work is not counted as the load's: until a second has passed without a long task (at most 15 s).
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        let busyUntil = performance.now();
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) busyUntil = Math.max(busyUntil, e.startTime + e.duration);
        }).observe({ type: 'longtask', buffered: true });
        const started = performance.now();
        const check = () =>
          performance.now() - busyUntil > 1000 || performance.now() - started > 15_000 ? resolve() : setTimeout(check, 100);
        check();
      }),
  );
  return page;
}

function describe(r) {
  const tasks = r.longTasks.map((t) => `${t.ms} ms @${t.at}`).join(', ') || 'none';
  return `first slices ${r.firstSlicesMs.toFixed(0)} ms (${r.phases}), longest main-thread task ${r.longestTaskMs.toFixed(0)} ms (long tasks: ${tasks})`;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const uptime = () => execSync('uptime', { encoding: 'utf8' }).trim();

async function main() {
  const nifti = await benchVolumePath(SIZE);
  const dicom = WITH_DICOM ? await benchDicomPaths() : null;
  const server = await startAppServer({ build: true, port: PORT, testHooks: true });
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    console.log(`uptime: ${uptime()}`);
    console.log(`Opening a ${SIZE.join(' x ')} int16 scan from ${server.url}, ${RUNS} runs`);
    const results = [];
    for (let run = 1; run <= RUNS; run++) {
      let page = await newAppPage(browser, server.url);
      const raw = await measureRawRead(page, nifti);
      const niftiResult = await measureOpen(page, nifti, path.basename(nifti), `profile-nifti-run${run}`);
      await page.close();
      console.log(`run ${run}: raw read ${raw.ms.toFixed(0)} ms (File.arrayBuffer + min/max ${raw.min}..${raw.max})`);
      console.log(`run ${run}: NIfTI ${describe(niftiResult)}`);
      let dicomResult = null;
      if (dicom) {
        page = await newAppPage(browser, server.url);
        dicomResult = await measureOpen(page, dicom, 'Bench CT', `profile-dicom-run${run}`);
        await page.close();
        console.log(`run ${run}: DICOM ${describe(dicomResult)}`);
      }
      results.push({ raw: raw.ms, nifti: niftiResult, dicom: dicomResult });
    }
    const raw = median(results.map((r) => r.raw));
    const niftiMs = median(results.map((r) => r.nifti.firstSlicesMs));
    const niftiRatio = median(results.map((r) => r.nifti.firstSlicesMs / r.raw));
    const longest = (kind) => Math.max(...results.map((r) => r[kind].longestTaskMs)).toFixed(0);
    console.log(`\nuptime: ${uptime()}`);
    console.log(`load-512x512x300: raw read ${raw.toFixed(0)} ms (median: File.arrayBuffer + one min/max pass)`);
    console.log(
      `load-512x512x300-nifti: first slices ${niftiMs.toFixed(0)} ms (median) = ${niftiRatio.toFixed(2)}x the raw read (median of per-run ratios; target <= 2.5)`,
    );
    console.log(`load-512x512x300-nifti: longest main-thread task while opening ${longest('nifti')} ms (worst run; target <= 100)`);
    if (dicom) {
      const dicomMs = median(results.map((r) => r.dicom.firstSlicesMs));
      const dicomRatio = median(results.map((r) => r.dicom.firstSlicesMs / r.nifti.firstSlicesMs));
      console.log(
        `load-512x512x300-dicom: first slices ${dicomMs.toFixed(0)} ms (median) = ${dicomRatio.toFixed(2)}x the NIfTI time (median of per-run ratios; target <= 2)`,
      );
      console.log(`load-512x512x300-dicom: longest main-thread task while opening ${longest('dicom')} ms (worst run; target <= 100)`);
    }
  } finally {
    await browser.close();
    server.stop();
  }
}

await main();
