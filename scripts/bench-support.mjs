/**
 * Shared by the benchmark scripts (not a benchmark itself): the repository root, the app server
 * and Chromium launched the way playwright.config.ts launches it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Playwright launch options for Debian's Chromium (CHROMIUM_PATH overrides it), plus `extraArgs`. */
export function chromiumLaunchOptions(extraArgs = []) {
  return {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', ...extraArgs],
  };
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
 * build (into `outDir`, Vite's default dist/ when omitted) served by `vite preview`.
 * BENCH_URL names an already running server instead; APP_PORT overrides the port (several checkouts
 * side by side). Returns its `url` and `stop()`.
 */
export async function startAppServer({ port: defaultPort, build = false, outDir }) {
  if (process.env.BENCH_URL) return { url: process.env.BENCH_URL, stop: () => {} };
  const port = Number(process.env.APP_PORT ?? defaultPort);
  const outDirArgs = outDir ? ['--outDir', outDir] : [];
  if (build) {
    console.log('Building the app (vite build)...');
    const result = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn', ...outDirArgs, '--emptyOutDir'], { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) throw new Error('vite build failed');
  }
  const command = build ? ['vite', 'preview', ...outDirArgs] : ['vite'];
  // Detached: its own process group, so stop() also ends the vite process that npx starts.
  const server = spawn('npx', [...command, '--port', String(port), '--strictPort'], { cwd: root, stdio: 'ignore', detached: true });
  const url = `http://localhost:${port}`;
  const stop = () => process.kill(-server.pid);
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
export const BENCH_SPACING = [0.7, 0.7, 1.0];

/** The demo phantom's anatomy on the benchmarks' CT-sized grid, written once to .cache/bench/. */
export async function benchVolumePath() {
  const file = path.join(root, '.cache/bench', `ct-${BENCH_SIZE.join('x')}-int16.nii`);
  if (existsSync(file)) return file;
  console.log(`Generating ${path.relative(root, file)} (once)...`);
  const { makeDemoPhantom } = await tsImport('../src/core/phantom.ts', import.meta.url);
  const { encodeNifti } = await tsImport('../tests/support/raw-writers.ts', import.meta.url);
  const { volume } = makeDemoPhantom({ size: BENCH_SIZE, spacing: BENCH_SPACING });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, encodeNifti(volume.geometry, volume.data));
  return file;
}
