/**
 * Model self-test page (selftest.html), driven by e2e/model-fidelity.spec.ts and scripts/bench-model.mjs.
 *
 * Query: backend=wasm|webgpu, threads=N (WASM), mode=fidelity|bench, runs=N (bench).
 * Models are fetched from /selftest-data/models/{encoder,decoder}.onnx and fixture-A arrays from
 * /selftest-data/fixture/NAME (NAME.npy's raw little-endian data); the driver serves both (page.route).
 * The result lands in `window.selftest` and, as JSON, in #status.
 * On WebGPU every node must run on the GPU: the session refuses to fall back to the CPU EP.
 */
import type { InferenceSession } from 'onnxruntime-web';
import { FIXTURE_CLICKS, runFidelity, type FidelityFixture, type FidelityReport, type TensorConstructor } from './fidelity';
import { embeddingShape, LOW_RES_SIZE } from '../core/model-runner';
import { PATCH_SIZE } from '../core/resample';

type Backend = 'wasm' | 'webgpu';

export interface BenchReport {
  encoderMs: number[];
  decoderMs: number[];
}

export interface SelftestResult {
  backend: Backend;
  threads: number;
  fidelity?: FidelityReport;
  bench?: BenchReport;
  error?: string;
}

declare global {
  interface Window {
    selftest?: SelftestResult;
  }
}

const DATA = '/selftest-data';

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

async function fixtureArray(name: string): Promise<Float32Array> {
  return new Float32Array(await fetchBytes(`${DATA}/fixture/${name}`));
}

async function loadFixture(): Promise<FidelityFixture> {
  const clicks = [];
  for (let k = 1; k <= FIXTURE_CLICKS; k++) {
    clicks.push({
      points: await fixtureArray(`points_${k}`),
      labels: await fixtureArray(`labels_${k}`),
      logits: await fixtureArray(`logits_${k}`),
      iou: await fixtureArray(`iou_${k}`),
    });
  }
  return {
    image: await fixtureArray('roi_image'),
    embeddings: await fixtureArray('embeddings'),
    clicks,
    mask3: new Uint8Array(await fetchBytes(`${DATA}/fixture/mask_3`)),
  };
}

function sessionOptions(backend: Backend): InferenceSession.SessionOptions {
  if (backend === 'wasm') return { executionProviders: ['wasm'] };
  // No silent CPU fallback: session creation fails if any node is not assigned to WebGPU.
  return { executionProviders: ['webgpu'], extra: { session: { disable_cpu_ep_fallback: '1' } } };
}

const DECODER_WARM_UP_RUNS = 20;

async function bench(
  TensorClass: TensorConstructor,
  encoder: InferenceSession,
  decoder: InferenceSession,
  runs: number,
): Promise<BenchReport> {
  const image = new TensorClass(
    'float32',
    new Float32Array(PATCH_SIZE ** 3).map(() => Math.random() - 0.5),
    [1, 1, PATCH_SIZE, PATCH_SIZE, PATCH_SIZE],
  );
  const feeds = (embeddings: Float32Array) => ({
    embeddings: new TensorClass('float32', embeddings, embeddingShape(embeddings.length)),
    point_coords: new TensorClass('float32', Float32Array.of(64, 60, 70, 40, 64, 64), [1, 2, 3]),
    point_labels: new TensorClass('float32', Float32Array.of(1, 0), [1, 2]),
    mask_input: new TensorClass('float32', new Float32Array(LOW_RES_SIZE ** 3), [1, 1, LOW_RES_SIZE, LOW_RES_SIZE, LOW_RES_SIZE]),
  });
  const report: BenchReport = { encoderMs: [], decoderMs: [] };
  // Warm-up runs, not timed: one encoder run, and enough decoder runs for V8 to finish optimizing
  // the WASM code (the first ~15 short runs are about twice as slow; the app decodes at every click).
  const embeddings = (await encoder.run({ image })).embeddings.data as Float32Array;
  for (let i = 0; i < DECODER_WARM_UP_RUNS; i++) await decoder.run(feeds(embeddings));
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await encoder.run({ image });
    report.encoderMs.push(performance.now() - start);
  }
  for (let i = 0; i < runs * 5; i++) {
    const start = performance.now();
    await decoder.run(feeds(embeddings));
    report.decoderMs.push(performance.now() - start);
  }
  return report;
}

async function main(): Promise<SelftestResult> {
  const params = new URLSearchParams(location.search);
  const backend: Backend = params.get('backend') === 'webgpu' ? 'webgpu' : 'wasm';
  const threads = Number(params.get('threads') ?? 1);
  const result: SelftestResult = { backend, threads };
  try {
    const ort = await (backend === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm'));
    ort.env.wasm.numThreads = threads;
    const options = sessionOptions(backend);
    const encoder = await ort.InferenceSession.create(new Uint8Array(await fetchBytes(`${DATA}/models/encoder.onnx`)), options);
    const decoder = await ort.InferenceSession.create(new Uint8Array(await fetchBytes(`${DATA}/models/decoder.onnx`)), options);
    const TensorClass = ort.Tensor as unknown as TensorConstructor;
    if (params.get('mode') === 'bench') {
      result.bench = await bench(TensorClass, encoder, decoder, Number(params.get('runs') ?? 3));
    } else {
      result.fidelity = await runFidelity(TensorClass, encoder, decoder, await loadFixture());
    }
    await encoder.release();
    await decoder.release();
  } catch (error) {
    result.error = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  }
  return result;
}

void main().then((result) => {
  window.selftest = result;
  const status = document.getElementById('status');
  if (status) status.textContent = JSON.stringify(result, null, 1);
});
