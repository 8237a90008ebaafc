#!/usr/bin/env node
/**
 * Checkpoint benchmark: opens a full-size ViT-B checkpoint (random weights, the official layout;
 * about 400 MB of float32) through the app's "Open checkpoint (.pth)" input in Chromium, with the
 * shipped sam_med3d_turbo templates, and prints the time until the model is ready and the peak
 * memory growth of all Chromium processes (target: about twice the weights). Then loads it again
 * in a new tab (the converted model now comes from the cache), and for comparison the same
 * weights as an exported model (encoder.onnx + decoder.onnx, "Open model files").
 *
 *   npm run bench:checkpoint          # makes the checkpoint and its export under .cache/ first when missing
 *   BENCH_URL=http://localhost:4173 npm run bench:checkpoint   # an already running server
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { chromiumLaunchOptions, ensureVitB, root, startAppServer } from './bench-support.mjs';
const PORT = 4182;
const MB = 1e6;

/** Resident memory of `pid` and all its descendants, in bytes. */
function treeRss(pid) {
  const children = new Map();
  const rss = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const parent = Number(fields[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
      rss.set(Number(entry), Number(fields[21]) * 4096);
    } catch {
      // the process ended meanwhile
    }
  }
  let total = 0;
  for (const stack = [pid]; stack.length > 0;) {
    const next = stack.pop();
    total += rss.get(next) ?? 0;
    stack.push(...(children.get(next) ?? []));
  }
  return total;
}

/** The browser process of the Chromium that uses the profile folder `profile`. */
function browserPid(profile) {
  for (const entry of readdirSync('/proc')) {
    try {
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (commandLine.includes(`--user-data-dir=${profile}`) && !commandLine.includes('--type=')) return Number(entry);
    } catch {
      // not a process, or it ended meanwhile
    }
  }
  throw new Error('the browser process was not found');
}

/** Makes the page note (Date.now()) when the progress first says onnxruntime sessions are being built. */
const watchSessionStart = (page) =>
  page.evaluate(() => {
    new MutationObserver((_, observer) => {
      const text = document.querySelector('[data-testid="inference-progress"]')?.textContent ?? '';
      if (!/Preparing the|Testing WebGPU/.test(text)) return;
      globalThis.sessionStart = Date.now();
      observer.disconnect();
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });

/**
 * Gives `files` to the input `testId` of a new tab; returns seconds to ready and the peak RSS
 * growth of the browser, overall and per step: reading/converting the weights, then building sessions.
 */
async function loadModel(context, url, pid, testId, files) {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForTimeout(2000);
  const baseline = treeRss(pid);
  await watchSessionStart(page);
  const samples = [];
  const sampler = setInterval(() => samples.push({ time: Date.now(), rss: treeRss(pid) }), 100);
  const started = performance.now();
  await page.getByTestId(testId).setInputFiles(files);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="model-status"]')?.getAttribute('data-status') !== 'loading',
    null,
    {
      timeout: 600_000,
      polling: 200,
    },
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  // What the tab keeps once ready (the sessions, and whatever else still holds the weights).
  await page.waitForTimeout(5000);
  const held = treeRss(pid) - baseline;
  const sessionStart = await page.evaluate(() => globalThis.sessionStart ?? Infinity);
  const peak = (select) => Math.max(baseline, ...samples.filter(select).map((sample) => sample.rss));
  const status = await page.getByTestId('model-status').getAttribute('data-status');
  const message = await page
    .getByTestId('inference-message')
    .textContent()
    .catch(() => '');
  await page.close();
  if (status !== 'ready') throw new Error(`the model did not load (status ${status}): ${message}`);
  return {
    seconds,
    growth: peak(() => true) - baseline,
    readGrowth: peak((sample) => sample.time < sessionStart) - baseline,
    sessionGrowth: peak((sample) => sample.time >= sessionStart) - baseline,
    held,
    message,
  };
}

async function main() {
  const { checkpoint, modelDir } = ensureVitB();
  const exported = ['encoder.onnx', 'decoder.onnx', 'model.json'].map((name) => path.join(modelDir, name));
  const manifest = JSON.parse(readFileSync(path.join(root, 'public/models/sam-med3d-turbo/templates/manifest.json'), 'utf8'));
  const weights = Object.values(manifest.graphs).reduce((sum, graph) => sum + graph.weightsBytes, 0);
  // A production build: the dev server would reload the page whenever a source file changes.
  const server = await startAppServer({ build: true, port: PORT, outDir: '.cache/bench-checkpoint-dist' });
  // A profile on disk, as a user's: Playwright's default contexts are incognito ones, whose OPFS
  // lives in the browser process's memory. One profile for every tab: the second load must find
  // the first one's cache. A local launch also gives the file input the file's path (no upload).
  const profile = mkdtempSync(path.join(tmpdir(), 'bench-checkpoint-'));
  const context = await chromium.launchPersistentContext(profile, chromiumLaunchOptions());
  const clearCache = async () => {
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Clear cache' }).click();
    await page.close();
  };
  const share = (bytes) => `${(bytes / MB).toFixed(0)} MB (${(bytes / weights).toFixed(2)}x the weights)`;
  const report = (what, { seconds, growth, readGrowth, sessionGrowth, held }) =>
    console.log(
      `${what}: ready in ${seconds.toFixed(1)} s, peak browser memory growth ${share(growth)}; ` +
        `reading/converting ${share(readGrowth)}, building sessions ${share(sessionGrowth)}; held 5 s after ready ${share(held)}`,
    );
  try {
    await clearCache();
    console.log(
      `${path.basename(checkpoint)}: ${(statSync(checkpoint).size / MB).toFixed(0)} MB file, ${(weights / MB).toFixed(0)} MB of weights`,
    );
    const pid = browserPid(profile);
    report('checkpoint-vit-b convert', await loadModel(context, server.url, pid, 'checkpoint-file', checkpoint));
    report('checkpoint-vit-b cached', await loadModel(context, server.url, pid, 'checkpoint-file', checkpoint));
    await clearCache();
    report('exported-vit-b (comparison)', await loadModel(context, server.url, pid, 'model-files', exported));
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    server.stop();
  }
}

await main();
