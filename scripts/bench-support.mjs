/**
 * Shared by the benchmark scripts (not a benchmark itself): the repository root, the app server,
 * Chromium launched the way playwright.config.ts launches it, and the random-weight ViT-B model.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Playwright launch options for Debian's Chromium (CHROMIUM_PATH overrides it), plus `extraArgs`. */
export function chromiumLaunchOptions(extraArgs = []) {
  return {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', ...extraArgs],
  };
}

/**
 * Checks that a page's list of long tasks (`list`: an expression naming an array the page's
 * PerformanceObserver fills with { start, duration }) is live, so a benchmark's "longest task 0 ms"
 * means none: runs a 70 ms task in the page and returns the line to print; throws if it is missed.
 */
export async function checkLongTaskObserver(page, list) {
  const recorded = await page.evaluate(`(async () => {
    const before = ${list}.length;
    await new Promise((resolve) => setTimeout(() => { const start = performance.now(); while (performance.now() - start < 70); resolve(); }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    return Math.max(0, ...${list}.slice(before).map((task) => task.duration));
  })()`);
  if (recorded < 70) throw new Error(`the long-task observer missed a 70 ms task in the page (longest recorded: ${recorded} ms)`);
  return `long-task observer checked: a 70 ms task in the page was recorded (${recorded.toFixed(0)} ms)`;
}

/**
 * BENCH_CPU_THROTTLE=R slows the page by R with Chromium's CPU throttling, to read the targets as a
 * slower machine would meet them. It slows the page's workers too, less: at rate 2 this machine's
 * first click of bench:segment took 1.4x as long. The setting lasts across the page's navigations.
 */
export async function throttleCpu(page) {
  const rate = Number(process.env.BENCH_CPU_THROTTLE ?? 1);
  if (rate === 1) return;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  console.log(`CPU throttled: rate ${rate} (BENCH_CPU_THROTTLE)`);
}

/** Resolves once `url` answers with a 2xx status; throws after `timeoutMs`. */
export async function waitForServer(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`server at ${url} did not start`);
}

/**
 * Serves the app on http://localhost:`port`: the Vite dev server, or with `build` a production
 * build (into `outDir`, Vite's default dist/ when omitted) served by `vite preview`; with `testHooks`
 * a test build (vite --mode test: window.__samApp and __samSegmentation, which production leaves out).
 * BENCH_URL names an already running server instead; APP_PORT overrides the port (several checkouts
 * side by side). Returns its `url` and `stop()`.
 */
export async function startAppServer({ port: defaultPort, build = false, outDir, testHooks = false }) {
  if (process.env.BENCH_URL) return { url: process.env.BENCH_URL, stop: () => {} };
  const port = Number(process.env.APP_PORT ?? defaultPort);
  const outDirArgs = outDir ? ['--outDir', outDir] : [];
  const modeArgs = testHooks ? ['--mode', 'test'] : [];
  if (build) {
    console.log('Building the app (vite build)...');
    const result = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn', ...modeArgs, ...outDirArgs, '--emptyOutDir'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (result.status !== 0) throw new Error('vite build failed');
  }
  const command = build ? ['vite', 'preview', ...outDirArgs] : ['vite', ...modeArgs];
  // Detached: its own process group, so stop() also ends the vite process that npx starts.
  const server = spawn('npx', [...command, '--port', String(port), '--strictPort'], { cwd: root, stdio: 'ignore', detached: true });
  const url = `http://localhost:${port}`;
  const stop = () => {
    try {
      process.kill(-server.pid);
    } catch (error) {
      // Already gone (e.g. ended with the terminal's process group).
      if (error.code !== 'ESRCH') throw error;
    }
  };
  try {
    await waitForServer(url);
  } catch (error) {
    stop();
    throw error;
  }
  return { url, stop };
}

/** The benchmarks' CT-sized volume: 512 x 512 x 300 int16 at 0.7 x 0.7 x 1 mm. */
export const BENCH_SIZE = [512, 512, 300];

const phantoms = new Map();

/** The demo phantom's anatomy on a CT-sized int16 grid (0.7 x 0.7 x 1 mm), made once per process. */
export async function benchPhantom(size) {
  const key = size.join('x');
  if (!phantoms.has(key)) {
    const { makeDemoPhantom } = await tsImport('../src/core/phantom.ts', import.meta.url);
    const { volume } = makeDemoPhantom({ size, spacing: [0.7, 0.7, 1.0] });
    phantoms.set(key, { geometry: volume.geometry, data: volume.data });
  }
  return phantoms.get(key);
}

/** That phantom as one NIfTI file, written once to .cache/bench/. */
export async function benchVolumePath(size = BENCH_SIZE) {
  const file = path.join(root, '.cache/bench', `ct-${size.join('x')}-int16.nii`);
  if (existsSync(file)) return file;
  console.log(`Generating ${path.relative(root, file)} (once)...`);
  const { encodeNifti } = await tsImport('../tests/support/raw-writers.ts', import.meta.url);
  const { geometry, data } = await benchPhantom(size);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, encodeNifti(geometry, data));
  return file;
}

/** The full-size ViT-B checkpoint with random weights in the official layout (models/make_random_checkpoint.py). */
export const VIT_B_CHECKPOINT = path.join(root, '.cache/checkpoints/vit_b_random.pth');
/** Its ONNX export (encoder.onnx, decoder.onnx, model.json). */
export const VIT_B_MODEL_DIR = path.join(root, '.cache/models/vit_b');

const python = (args) => execFileSync('/usr/bin/python3', args, { cwd: root, stdio: 'inherit' });

/** Makes the random ViT-B checkpoint under .cache/ when missing (a minute, once); returns its path. */
export function ensureVitBCheckpoint() {
  if (!existsSync(VIT_B_CHECKPOINT)) {
    console.log('making the random ViT-B checkpoint...');
    python(['models/make_random_checkpoint.py', '--preset', 'vit_b', '--out', VIT_B_CHECKPOINT]);
  }
  return VIT_B_CHECKPOINT;
}

/** Makes the random ViT-B checkpoint and its export under .cache/ when missing (a few minutes, once). */
export function ensureVitB() {
  const checkpoint = ensureVitBCheckpoint();
  if (!existsSync(path.join(VIT_B_MODEL_DIR, 'model.json'))) {
    console.log('exporting it to ONNX...');
    python(['models/export.py', '--checkpoint', checkpoint, '--out', VIT_B_MODEL_DIR]);
  }
  return { checkpoint, modelDir: VIT_B_MODEL_DIR };
}

/** The oracle model (models/oracle.py: it segments the bright object under a click), made when missing; returns its directory. */
export function ensureOracle() {
  const dir = path.join(root, '.cache/models/oracle');
  if (!existsSync(path.join(dir, 'model.json'))) python(['models/oracle.py', dir]);
  return dir;
}
