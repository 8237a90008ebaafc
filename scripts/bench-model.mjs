#!/usr/bin/env node
/**
 * `npm run bench:model`: SAM-Med3D encoder/decoder latency at the full ViT-B size (random weights),
 * plain (official padded-window attention) vs optimized graph, in PyTorch eager (plain: an
 * encoder with the official code's op choices, see models/bench_torch.py; optimized: our modules),
 * onnxruntime-node and onnxruntime-web WASM in Chromium (selftest.html), 2 threads each.
 * Prints a table of medians and ratios. Options: --runs N (encoder runs; decoder 5N), --skip-torch,
 * --decoder-only (the optimized decoder alone on random embeddings: no encoder pass, no PyTorch).
 * BENCH_PROFILE=1 adds, for the optimized encoder: onnxruntime-node's op-by-op profile of one patch
 * (top ops and their share), its MatMul GFLOP count, the browser's GFLOP/s against a 128-bit SIMD
 * peak, the Chromium/Node ratio, the browser's op profile (onnxruntime-web prints it to the console
 * on endProfiling()), and 1 thread beside 2 in Chromium (the app's encoder session options) and in
 * onnxruntime-node.
 * BENCH_INT8=1 also exports the optimized graph's int8 encoder (export.py --int8); whenever it is
 * there, the int8 and fp32 encoders are timed in turn in onnxruntime-node and in Chromium WASM (the
 * app's options) and the int8 embeddings' max error against fp32 is printed.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import * as ort from 'onnxruntime-node';
import { createServer } from 'vite';
import { chromiumLaunchOptions, ensureVitBCheckpoint, VIT_B_CHECKPOINT as CHECKPOINT } from './bench-support.mjs';

const THREADS = 2;
const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] || 3) || 3;
const decoderOnly = argv.includes('--decoder-only');
const skipTorch = argv.includes('--skip-torch') || decoderOnly;
const profile = process.env.BENCH_PROFILE === '1' && !decoderOnly;
const exportInt8 = process.env.BENCH_INT8 === '1' && !decoderOnly;
const GRAPHS = decoderOnly ? ['optimized'] : ['plain', 'optimized'];
const PARTS = decoderOnly ? ['decoder'] : ['encoder', 'decoder'];
const modelDir = (graph) => `.cache/bench/vit_b-${graph}`;
const python = (args) => execFileSync('/usr/bin/python3', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

function median(values) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Makes the checkpoint if missing; exports each graph unless newer than the checkpoint and the exporter. */
function prepare() {
  ensureVitBCheckpoint();
  const sources = [CHECKPOINT, 'models/export.py', ...readdirSync('models/sammed3d').map((f) => `models/sammed3d/${f}`)];
  const newestSource = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  for (const graph of GRAPHS) {
    const json = path.join(modelDir(graph), 'model.json');
    const int8 = exportInt8 && graph === 'optimized';
    if (!existsSync(json) || statSync(json).mtimeMs < newestSource || (int8 && !hasInt8())) {
      python(['models/export.py', '--checkpoint', CHECKPOINT, '--out', modelDir(graph), '--graph', graph, ...(int8 ? ['--int8'] : [])]);
    }
  }
}

const hasInt8 = () => existsSync(path.join(modelDir('optimized'), 'encoder_int8.onnx'));

function benchTorch(graph) {
  const out = python([
    'models/bench_torch.py',
    '--checkpoint',
    CHECKPOINT,
    '--graph',
    graph,
    '--runs',
    String(runs),
    '--threads',
    String(THREADS),
  ]);
  return JSON.parse(out.trim().split('\n').pop());
}

async function benchNode(graph) {
  const options = { intraOpNumThreads: THREADS, interOpNumThreads: 1 };
  const encoder = decoderOnly ? undefined : await ort.InferenceSession.create(path.join(modelDir(graph), 'encoder.onnx'), options);
  const decoder = await ort.InferenceSession.create(path.join(modelDir(graph), 'decoder.onnx'), options);
  const image = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 128 ** 3 }, () => Math.random() - 0.5),
    [1, 1, 128, 128, 128],
  );
  const embeddings = encoder
    ? (await encoder.run({ image })).embeddings
    : new ort.Tensor(
        'float32',
        Float32Array.from({ length: 384 * 8 ** 3 }, () => Math.random() - 0.5),
        [1, 384, 8, 8, 8],
      );
  const feeds = {
    embeddings,
    point_coords: new ort.Tensor('float32', Float32Array.of(64, 60, 70, 40, 64, 64), [1, 2, 3]),
    point_labels: new ort.Tensor('float32', Float32Array.of(1, 0), [1, 2]),
    mask_input: new ort.Tensor('float32', new Float32Array(32 ** 3), [1, 1, 32, 32, 32]),
  };
  await decoder.run(feeds);
  const time = async (fn, n) => {
    const ms = [];
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      await fn();
      ms.push(performance.now() - start);
    }
    return ms;
  };
  const result = {
    encoderMs: encoder ? await time(() => encoder.run({ image }), runs) : [],
    decoderMs: await time(() => decoder.run(feeds), runs * 5),
  };
  await encoder?.release();
  await decoder.release();
  return result;
}

/**
 * The optimized graph's fp32 and int8 encoders in onnxruntime-node, timed in turn (`runs` each,
 * after a warm-up), with the app's encoder options; and max |int8 - fp32| / max |fp32| of the embeddings.
 */
async function benchNodeInt8() {
  const options = { intraOpNumThreads: THREADS, interOpNumThreads: 1, extra: { session: { disable_prepacking: '1' } } };
  const image = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 128 ** 3 }, () => Math.random() - 0.5),
    [1, 1, 128, 128, 128],
  );
  const encoders = [];
  for (const file of ['encoder.onnx', 'encoder_int8.onnx']) {
    const session = await ort.InferenceSession.create(path.join(modelDir('optimized'), file), options);
    encoders.push({ session, embeddings: (await session.run({ image })).embeddings.data, ms: [] });
  }
  for (let i = 0; i < runs; i++)
    for (const encoder of encoders) {
      const start = performance.now();
      await encoder.session.run({ image });
      encoder.ms.push(performance.now() - start);
    }
  const [fp32, int8] = encoders;
  let error = 0;
  let scale = 0;
  for (let i = 0; i < fp32.embeddings.length; i++) {
    error = Math.max(error, Math.abs(int8.embeddings[i] - fp32.embeddings[i]));
    scale = Math.max(scale, Math.abs(fp32.embeddings[i]));
  }
  for (const encoder of encoders) await encoder.session.release();
  return { fp32Ms: median(fp32.ms), int8Ms: median(int8.ms), relativeError: error / scale };
}

const MATMULS = new Set(['MatMul', 'Gemm', 'FusedMatMul']);

/**
 * One profiled encoder pass in onnxruntime-node (after a warm-up pass): time per op type and the
 * FLOPs of its MatMuls.
 */
async function profileNodeEncoder(graph, threads) {
  const prefix = path.join(os.tmpdir(), `bench-model-profile-${process.pid}`);
  const session = await ort.InferenceSession.create(path.join(modelDir(graph), 'encoder.onnx'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const image = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 128 ** 3 }, () => Math.random() - 0.5),
    [1, 1, 128, 128, 128],
  );
  await session.run({ image });
  await session.run({ image });
  session.endProfiling();
  await session.release();
  const file = readdirSync(os.tmpdir()).find((f) => f.startsWith(path.basename(prefix)));
  const events = JSON.parse(readFileSync(path.join(os.tmpdir(), file), 'utf8'));
  rmSync(path.join(os.tmpdir(), file));
  return summarizeProfile(events);
}

/**
 * An onnxruntime profile (Chrome trace events) of the last model run: time per op type, and the
 * FLOPs of its MatMuls (2 * output elements * the first input's last dimension, which holds with
 * or without prepacked weights: prepacked ones are left out of the listed input shapes).
 */
function summarizeProfile(events) {
  const run = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').pop();
  const byOp = new Map();
  let flops = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < run.ts || e.ts > run.ts + run.dur) continue;
    const op = e.args.op_name;
    const entry = byOp.get(op) ?? { op, count: 0, us: 0 };
    entry.count += 1;
    entry.us += e.dur;
    byOp.set(op, entry);
    if (MATMULS.has(op)) {
      const out = Object.values(e.args.output_type_shape[0])[0];
      const a = Object.values(e.args.input_type_shape[0])[0];
      flops += 2 * out.reduce((x, y) => x * y, 1) * a[a.length - 1];
    }
  }
  return { runMs: run.dur / 1000, ops: [...byOp.values()].sort((x, y) => y.us - x.us), flops };
}

/** Nominal clock in GHz: os.cpus() reports 0 on some VMs, /proc/cpuinfo still has it. */
function clockGhz() {
  const speed = os.cpus()[0].speed;
  if (speed > 0) return speed / 1000;
  const mhz = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return mhz ? Number(mhz[1]) / 1000 : NaN;
}

/** 128-bit WASM SIMD peak of this machine: cores * clock * 4 f32 lanes * 2 (mul + add) * 2 SIMD pipes. */
function simdPeakGflops() {
  return os.cpus().length * clockGhz() * 4 * 2 * 2;
}

function printProfile(title, { runMs, ops }) {
  const total = ops.reduce((sum, o) => sum + o.us, 0);
  console.log(`${title}: one encoder pass ${formatMs(runMs)}, kernels ${formatMs(total / 1000)}`);
  for (const o of ops.slice(0, 10))
    console.log(
      `  ${o.op.padEnd(24)} ${String(o.count).padStart(4)} nodes ${formatMs(o.us / 1000).padStart(10)} ${((100 * o.us) / total).toFixed(1).padStart(5)}%`,
    );
}

/** Serves the graph being measured at /selftest-data/models/ (streamed: the ViT-B encoder is ~370 MB). */
function modelFiles(state) {
  return {
    name: 'bench-model-files',
    configureServer(server) {
      server.middlewares.use('/selftest-data/models', (req, res) => {
        if (req.url === '/blank.html') {
          // a cross-origin isolated page for benchChromiumDecoder
          for (const [name, value] of Object.entries(server.config.server.headers ?? {})) res.setHeader(name, value);
          res.setHeader('Content-Type', 'text/html');
          res.end('<!doctype html><title>decoder benchmark</title>');
          return;
        }
        const file = path.join(modelDir(state.graph), path.basename(req.url ?? ''));
        res.setHeader('Content-Type', 'application/octet-stream');
        createReadStream(file)
          .on('error', () => {
            res.statusCode = 404;
            res.end();
          })
          .pipe(res);
      });
    },
  };
}

async function benchChromium(server, state, graph) {
  state.graph = graph;
  const browser = await chromium.launch(chromiumLaunchOptions(['--disable-sync']));
  try {
    const page = await browser.newPage();
    const url = server.resolvedUrls.local[0];
    await page.goto(`${url}selftest.html?mode=bench&backend=wasm&threads=${THREADS}&runs=${runs}`);
    await page.waitForFunction(() => window.selftest !== undefined, null, { timeout: 1_800_000, polling: 1000 });
    const result = await page.evaluate(() => window.selftest);
    if (result.error) throw new Error(`Chromium ${graph}: ${result.error}`);
    return result.bench;
  } finally {
    await browser.close();
  }
}

/** The decoder alone (random embeddings, selftest's feeds) in onnxruntime-web WASM: no encoder session or pass. */
async function benchChromiumDecoder(server, state, graph) {
  state.graph = graph;
  const browser = await chromium.launch(chromiumLaunchOptions(['--disable-sync']));
  try {
    const page = await browser.newPage();
    await page.goto(`${server.resolvedUrls.local[0]}selftest-data/models/blank.html`);
    const result = await page.evaluate(
      async ({ threads, count }) => {
        const ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.bundle.min.mjs');
        ort.env.wasm.numThreads = threads;
        const model = new Uint8Array(await (await fetch('/selftest-data/models/decoder.onnx')).arrayBuffer());
        const decoder = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
        const feeds = () => ({
          embeddings: new ort.Tensor(
            'float32',
            Float32Array.from({ length: 384 * 512 }, () => Math.random() - 0.5),
            [1, 384, 8, 8, 8],
          ),
          point_coords: new ort.Tensor('float32', Float32Array.of(64, 60, 70, 40, 64, 64), [1, 2, 3]),
          point_labels: new ort.Tensor('float32', Float32Array.of(1, 0), [1, 2]),
          mask_input: new ort.Tensor('float32', new Float32Array(32 ** 3), [1, 1, 32, 32, 32]),
        });
        // Warm-up as in src/selftest/main.ts: V8 needs ~15 short runs to finish optimizing the WASM code.
        for (let i = 0; i < 20; i++) await decoder.run(feeds());
        const decoderMs = [];
        for (let i = 0; i < count; i++) {
          const input = feeds();
          const start = performance.now();
          await decoder.run(input);
          decoderMs.push(performance.now() - start);
        }
        await decoder.release();
        return { encoderMs: [], decoderMs, isolated: crossOriginIsolated };
      },
      { threads: THREADS, count: runs * 5 },
    );
    if (!result.isolated) throw new Error('the decoder benchmark page is not cross-origin isolated: WASM would run on 1 thread');
    return result;
  } finally {
    await browser.close();
  }
}

/**
 * The optimized encoder alone in onnxruntime-web WASM at `threads`, with the app's encoder session
 * options (src/inference/ort-web-runner.ts): `count` timed passes after one warm-up. With `profile`,
 * one profiled pass instead: onnxruntime-web's WASM build prints the profile's trace events to the
 * console (one console.log per line) when endProfiling() is called.
 */
async function chromiumEncoder(server, state, { threads, count, profile = false, file = 'encoder.onnx' }) {
  state.graph = 'optimized';
  const browser = await chromium.launch(chromiumLaunchOptions(['--disable-sync']));
  try {
    const page = await browser.newPage();
    const events = [];
    let traceEnded;
    const traceDone = new Promise((resolve) => (traceEnded = resolve));
    page.on('console', (message) => {
      const text = message.text().trim();
      if (text.startsWith('{"cat"')) events.push(JSON.parse(text.replace(/,$/, '')));
      else if (text === ']') traceEnded();
    });
    await page.goto(`${server.resolvedUrls.local[0]}selftest-data/models/blank.html`);
    const result = await page.evaluate(
      async ({ threads, count, profile, file }) => {
        const ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.bundle.min.mjs');
        ort.env.wasm.numThreads = threads;
        const model = new Uint8Array(await (await fetch(`/selftest-data/models/${file}`)).arrayBuffer());
        const encoder = await ort.InferenceSession.create(model, {
          executionProviders: ['wasm'],
          graphOptimizationLevel: 'all',
          extra: { session: { disable_prepacking: '1' } },
          enableProfiling: profile,
        });
        const image = new ort.Tensor(
          'float32',
          Float32Array.from({ length: 128 ** 3 }, () => Math.random() - 0.5),
          [1, 1, 128, 128, 128],
        );
        await encoder.run({ image });
        const encoderMs = [];
        for (let i = 0; i < count; i++) {
          const start = performance.now();
          await encoder.run({ image });
          encoderMs.push(performance.now() - start);
        }
        if (profile) encoder.endProfiling();
        await encoder.release();
        return { encoderMs, isolated: crossOriginIsolated };
      },
      { threads, count, profile, file },
    );
    if (!result.isolated) throw new Error('the encoder benchmark page is not cross-origin isolated: WASM would run on 1 thread');
    if (profile) {
      await Promise.race([traceDone, new Promise((resolve) => setTimeout(resolve, 30_000))]);
      return summarizeProfile(events);
    }
    return result;
  } finally {
    await browser.close();
  }
}

function formatMs(ms) {
  return ms === undefined ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

async function main() {
  prepare();
  const results = {}; // results[runtime][graph] = { encoderMs, decoderMs }
  const record = (runtime, graph, value) => {
    (results[runtime] ??= {})[graph] = value;
    console.error(`${runtime} ${graph}: encoder ${formatMs(median(value.encoderMs))}, decoder ${formatMs(median(value.decoderMs))}`);
  };
  for (const graph of GRAPHS) {
    if (!skipTorch) record('PyTorch eager', graph, benchTorch(graph));
    record('onnxruntime-node', graph, await benchNode(graph));
  }
  const state = { graph: GRAPHS[0] };
  const browserByThreads = {}; // BENCH_PROFILE: the optimized encoder's median ms in Chromium at the app's options
  let browserProfile;
  const int8 = !decoderOnly && hasInt8() ? {} : null; // medians of the Chromium encoders, fp32 and int8
  // node_modules may be a symlink (a git worktree's): let Vite serve its real path too (the WASM files)
  const allow = [process.cwd(), realpathSync('node_modules')];
  const server = await createServer({
    server: { port: Number(process.env.APP_PORT ?? 4179), fs: { allow } },
    plugins: [modelFiles(state)],
    logLevel: 'error',
  });
  await server.listen();
  try {
    for (const graph of GRAPHS)
      record('Chromium WASM', graph, await (decoderOnly ? benchChromiumDecoder : benchChromium)(server, state, graph));
    if (profile) {
      for (const threads of [1, THREADS]) {
        const { encoderMs } = await chromiumEncoder(server, state, { threads, count: runs });
        browserByThreads[threads] = median(encoderMs);
      }
      browserProfile = await chromiumEncoder(server, state, { threads: THREADS, count: 1, profile: true });
    }
    if (int8) {
      // In turn, one browser each time, so that load changes on this machine touch both alike.
      for (let i = 0; i < runs; i++)
        for (const file of ['encoder.onnx', 'encoder_int8.onnx'])
          (int8[file] ??= []).push(...(await chromiumEncoder(server, state, { threads: THREADS, count: 1, file })).encoderMs);
    }
  } finally {
    await server.close();
  }

  const rows = [];
  for (const part of PARTS) {
    for (const [runtime, byGraph] of Object.entries(results)) {
      const plain = byGraph.plain && median(byGraph.plain[`${part}Ms`]);
      const optimized = median(byGraph.optimized[`${part}Ms`]);
      const torchPlain = results['PyTorch eager'] && median(results['PyTorch eager'].plain[`${part}Ms`]);
      rows.push([
        part,
        runtime,
        formatMs(plain),
        formatMs(optimized),
        plain ? `${(plain / optimized).toFixed(2)}x` : '-',
        torchPlain ? `${(torchPlain / optimized).toFixed(2)}x` : '-',
      ]);
    }
  }
  const header = ['graph', 'runtime', 'plain', 'optimized', 'plain/optimized', 'PyTorch plain/this optimized'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`SAM-Med3D ViT-B (random weights), ${THREADS} threads, median of ${runs} encoder / ${runs * 5} decoder runs`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  console.log('Targets (Chromium WASM, optimized): encoder <= 3.0 s, decoder <= 50 ms');
  if (profile) {
    const node2 = await profileNodeEncoder('optimized', THREADS);
    const node1 = await profileNodeEncoder('optimized', 1);
    printProfile(`onnxruntime-node op profile, optimized encoder, ${THREADS} threads`, node2);
    printProfile('onnxruntime-node op profile, optimized encoder, 1 thread', node1);
    printProfile(`Chromium WASM op profile, optimized encoder, ${THREADS} threads`, browserProfile);
    const browserMs = median(results['Chromium WASM'].optimized.encoderMs);
    const nodeMs = median(results['onnxruntime-node'].optimized.encoderMs);
    const gflop = node2.flops / 1e9;
    console.log(
      `Encoder MatMul work: ${gflop.toFixed(1)} GFLOP per 128^3 patch (2 * output elements * inner dimension of every MatMul/Gemm ` +
        `in the profiled pass: node ${gflop.toFixed(1)}, Chromium ${(browserProfile.flops / 1e9).toFixed(1)}; Conv and elementwise ops not counted)`,
    );
    console.log(
      `Chromium WASM encoder ${formatMs(browserMs)}, onnxruntime-node ${formatMs(nodeMs)}: ratio ${(browserMs / nodeMs).toFixed(2)}x (target <= 3x)`,
    );
    console.log(
      `Browser ${(gflop / (browserMs / 1000)).toFixed(1)} GFLOP/s against a 128-bit SIMD peak of ${simdPeakGflops().toFixed(0)} GFLOP/s ` +
        `(${os.cpus().length} cores * ${clockGhz().toFixed(2)} GHz nominal * 4 f32 lanes * 2 for mul+add * 2 SIMD pipes); ` +
        `node ${(gflop / (nodeMs / 1000)).toFixed(1)} GFLOP/s`,
    );
    console.log(
      `Chromium WASM encoder with the app's session options (no MatMul prepacking): 1 thread ${formatMs(browserByThreads[1])}, ` +
        `${THREADS} threads ${formatMs(browserByThreads[THREADS])}: ${(browserByThreads[1] / browserByThreads[THREADS]).toFixed(2)}x`,
    );
    console.log(
      `onnxruntime-node profiled pass: 1 thread ${formatMs(node1.runMs)}, ${THREADS} threads ${formatMs(node2.runMs)}: ${(node1.runMs / node2.runMs).toFixed(2)}x`,
    );
  }
  if (int8) {
    const node = await benchNodeInt8();
    const [fp32Ms, int8Ms] = ['encoder.onnx', 'encoder_int8.onnx'].map((file) => median(int8[file]));
    console.log('Encoder precision (optimized graph, int8: export.py --int8; median of runs made in turn; no MatMul prepacking):');
    console.log(`  Chromium WASM ${THREADS} threads: fp32 ${formatMs(fp32Ms)}, int8 ${formatMs(int8Ms)}: ${(fp32Ms / int8Ms).toFixed(2)}x`);
    console.log(
      `  onnxruntime-node ${THREADS} threads: fp32 ${formatMs(node.fp32Ms)}, int8 ${formatMs(node.int8Ms)}: ${(node.fp32Ms / node.int8Ms).toFixed(2)}x; ` +
        `int8 embeddings max |error| ${node.relativeError.toExponential(2)} of the largest fp32 value (random weights, random image)`,
    );
  }
  const blas = results['PyTorch eager']?.plain?.blas;
  if (blas) console.log(`PyTorch's BLAS: ${blas.join(', ')}`);
}

await main();
