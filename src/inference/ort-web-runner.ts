/**
 * ModelRunner on onnxruntime-web. WebGPU (`onnxruntime-web/webgpu`) is used when the browser gives
 * an adapter and the decoder computes the same numbers there as on WASM (some adapters and drivers
 * silently compute garbage); otherwise WASM, multi-threaded when the page is cross-origin isolated.
 * A lost GPU device rebuilds the sessions on WASM and reruns the failed call, so callers never see it.
 */
import type { InferenceSession } from 'onnxruntime-common';
import { whileBusy, type ModelRunFlags } from '../core/busy-flag';
import type { DecodeInput, DecodeOutput, ModelRunner } from '../core/model-runner';
import { EMBEDDING_GRID, LOW_RES_VOXELS } from '../core/model-runner';
import { createOrtRunner } from '../core/engine/ort-runner';
import { externalizeWeights } from './onnx-external-data';

export type Backend = 'webgpu' | 'wasm';

export interface BackendInfo {
  backend: Backend;
  /** Whether WebGPU can be chosen (adapter present and self-test passed). */
  webgpuUsable: boolean;
  /** Why WebGPU is not used, or what happened to it (device lost), for the UI. */
  note: string;
  /** WASM threads (1 without cross-origin isolation). */
  threads: number;
  /** The encoder graph running: the int8 one only where chosen, on WASM. */
  encoderPrecision: EncoderPrecision;
  /** Whether the model has an int8 encoder to choose. */
  int8Available: boolean;
}

/** fp32 is the default; int8 (export.py --int8) is experimental, unvalidated on the real weights. */
export type EncoderPrecision = 'fp32' | 'int8';

export interface SessionProgress {
  phase: 'session';
  backend: Backend;
  graph: 'encoder' | 'decoder' | 'self-test';
}

type OrtModule = typeof import('onnxruntime-web/wasm');

/** An ONNX graph; a template built from a checkpoint (checkpoint-model.ts) brings its weights as external data. */
export type GraphBytes = Uint8Array | { model: Uint8Array; weights: { path: string; data: Uint8Array } };

/**
 * A graph's bytes, or a function that reads them again (from the model cache): the runner keeps
 * only what it is given, so a reader spares holding a copy of the weights next to the sessions'.
 */
export type GraphInput = GraphBytes | (() => Promise<GraphBytes>);

async function createSession(ort: OrtModule, input: GraphInput, options: InferenceSession.SessionOptions): Promise<InferenceSession> {
  const bytes = typeof input === 'function' ? await input() : input;
  // Weights inside the model become external data: used in place, not copied again in the heap.
  const graph = bytes instanceof Uint8Array ? (externalizeWeights(bytes) ?? bytes) : bytes;
  if (graph instanceof Uint8Array) return ort.InferenceSession.create(graph, options);
  return ort.InferenceSession.create(graph.model, { ...options, externalData: [graph.weights] });
}

/** Largest decoder difference WebGPU may show against WASM, relative to the largest WASM logit. */
const SELF_TEST_TOLERANCE = 1e-3;

const modules = new Map<Backend, Promise<OrtModule>>();

/** Each backend has its own build of onnxruntime-web, loaded only when used (they are large). */
function ortFor(backend: Backend): Promise<OrtModule> {
  let module = modules.get(backend);
  if (!module) {
    module = (backend === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm')).then((ort) => {
      ort.env.wasm.numThreads = wasmThreads();
      return ort;
    });
    modules.set(backend, module);
  }
  return module;
}

export function wasmThreads(): number {
  const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  return isolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
}

interface NavigatorWithGpu {
  gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean; architecture?: string } } | null> };
}

/** The WebGPU adapter, if any, and whether it is a software fallback (SwiftShader: slower than WASM). */
async function webGpuAdapter(): Promise<{ software: boolean; name: string } | null> {
  const gpu = (globalThis.navigator as NavigatorWithGpu | undefined)?.gpu;
  try {
    const adapter = await gpu?.requestAdapter();
    if (!adapter) return null;
    return { software: adapter.info?.isFallbackAdapter === true, name: adapter.info?.architecture || 'GPU' };
  } catch {
    return null;
  }
}

/** A model's graphs as the runner takes them. */
export interface RunnerModel {
  encoder: GraphInput;
  decoder: GraphInput;
  encoderInt8?: GraphInput;
}

interface Sessions {
  backend: Backend;
  runner: ModelRunner;
}

async function createSessions(
  backend: Backend,
  encoder: GraphInput,
  decoder: GraphInput,
  onProgress?: (progress: SessionProgress) => void,
): Promise<Sessions> {
  const ort = await ortFor(backend);
  const options: InferenceSession.SessionOptions = { executionProviders: [backend], graphOptimizationLevel: 'all' };
  onProgress?.({ phase: 'session', backend, graph: 'encoder' });
  // MLAS would keep a pre-packed copy of every MatMul weight next to the original: ~0.4x the
  // ViT-B weights more memory for a few percent of encoder speed. The decoder keeps it (small
  // weights, and twice as fast with it).
  const encoderSession = await createSession(ort, encoder, { ...options, extra: { session: { disable_prepacking: '1' } } });
  onProgress?.({ phase: 'session', backend, graph: 'decoder' });
  const decoderSession = await createSession(ort, decoder, options).catch(async (error: unknown) => {
    await encoderSession.release();
    throw error;
  });
  return { backend, runner: createOrtRunner(ort.Tensor, encoderSession, decoderSession) };
}

/** A small deterministic decode: fixed pseudo-random embeddings of the decoder's width, one point in the middle. */
function selfTestInput(decoder: InferenceSession): DecodeInput {
  const input = decoder.inputMetadata.find((value) => value.name === 'embeddings');
  const width = input?.isTensor ? input.shape[1] : undefined;
  if (typeof width !== 'number') throw new Error('the decoder has no [1, C, 8, 8, 8] "embeddings" input');
  const embeddings = new Float32Array(width * EMBEDDING_GRID ** 3);
  let seed = 12345;
  for (let n = 0; n < embeddings.length; n++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    embeddings[n] = seed / 2147483648 - 0.5;
  }
  return {
    embeddings,
    points: new Float32Array([64, 64, 64]),
    labels: new Float32Array([1]),
    maskInput: new Float32Array(LOW_RES_VOXELS),
  };
}

/** Runs the decoder on WebGPU and WASM and says whether they agree. */
async function decoderAgrees(decoder: GraphInput): Promise<{ ok: boolean; detail: string }> {
  const results: DecodeOutput[] = [];
  for (const backend of ['wasm', 'webgpu'] as const) {
    const ort = await ortFor(backend);
    const session = await createSession(ort, decoder, { executionProviders: [backend] });
    try {
      results.push(await createOrtRunner(ort.Tensor, session, session).decode(selfTestInput(session)));
    } finally {
      await session.release();
    }
  }
  const [reference, candidate] = results;
  let scale = 0;
  let error = 0;
  for (let n = 0; n < reference.logits.length; n++) {
    scale = Math.max(scale, Math.abs(reference.logits[n]));
    const difference = Math.abs(reference.logits[n] - candidate.logits[n]);
    error = Number.isNaN(difference) ? Infinity : Math.max(error, difference);
  }
  const ok = error <= SELF_TEST_TOLERANCE * Math.max(scale, 1e-6);
  return { ok, detail: `max difference ${error.toExponential(2)} for logits up to ${scale.toExponential(2)}` };
}

/** The self-test as a verdict and a note for the user. */
async function selfTest(decoder: GraphInput, onProgress?: (progress: SessionProgress) => void): Promise<{ ok: boolean; note: string }> {
  onProgress?.({ phase: 'session', backend: 'webgpu', graph: 'self-test' });
  try {
    const check = await decoderAgrees(decoder);
    return { ok: check.ok, note: `WebGPU self-test ${check.ok ? 'passed' : 'failed'} (${check.detail}).` };
  } catch (error) {
    return { ok: false, note: `WebGPU failed: ${(error as Error).message}` };
  }
}

/** absent: no adapter; untested: adapter, self-test not run yet (run when WebGPU is chosen). */
type WebGpuStatus = 'absent' | 'untested' | 'passed' | 'failed';

export function isDeviceLoss(error: unknown): boolean {
  return /device.*lost|lost.*device|GPUDevice|DXGI_ERROR_DEVICE|context lost/i.test(String((error as Error)?.message ?? error));
}

/**
 * How long a failed WebGPU call waits for the device to report its loss: a call can fail first,
 * with an unrelated message (a crashed GPU process gives "Failed to create a WebGPU compute
 * pipeline: A valid external Instance reference no longer exists").
 */
const LOSS_REPORT_GRACE_MS = 2000;

/** What `loss` resolves to, or null if it does not within `ms`. */
function settledWithin<T>(loss: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    void loss.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

export class OrtWebRunner implements ModelRunner {
  private sessions: Sessions;
  private webgpu: WebGpuStatus;
  private note: string;
  /** Resolves to the loss message once the WebGPU device in use is lost. */
  private deviceLoss: Promise<string> | null = null;
  /** onnxruntime-web runs one inference per session at a time: calls are queued. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The precision chosen; `running` is what the sessions use (int8 on WASM only). */
  private precision: EncoderPrecision = 'fp32';
  private running: EncoderPrecision = 'fp32';
  /** Raised while the encoder and the decoder run (see announceRunsIn). */
  private runFlags: ModelRunFlags = { decoding: null, encoding: null };

  private constructor(
    private readonly model: RunnerModel,
    sessions: Sessions,
    webgpu: WebGpuStatus,
    note: string,
    private readonly onBackendChange?: (info: BackendInfo) => void,
  ) {
    this.sessions = sessions;
    this.webgpu = webgpu;
    this.note = note;
  }

  /**
   * Builds sessions on the best backend: WebGPU when a hardware adapter passes the self-test, else
   * WASM. A software adapter (SwiftShader) stays selectable; it is tested when chosen. `preferred`
   * overrides the choice (WebGPU still has to pass the self-test).
   */
  static async create(
    model: RunnerModel,
    options: {
      preferred?: Backend;
      onProgress?: (progress: SessionProgress) => void;
      onBackendChange?: (info: BackendInfo) => void;
    } = {},
  ): Promise<OrtWebRunner> {
    const adapter = await webGpuAdapter();
    let webgpu: WebGpuStatus = adapter ? 'untested' : 'absent';
    let note = !adapter
      ? 'No WebGPU adapter in this browser.'
      : adapter.software
        ? `The WebGPU adapter is a software renderer (${adapter.name}): WASM is faster here.`
        : 'WASM chosen.';
    let sessions: Sessions | null = null;
    if (adapter && (options.preferred ? options.preferred === 'webgpu' : !adapter.software)) {
      const check = await selfTest(model.decoder, options.onProgress);
      webgpu = check.ok ? 'passed' : 'failed';
      note = check.note;
      if (check.ok) {
        try {
          sessions = await createSessions('webgpu', model.encoder, model.decoder, options.onProgress);
        } catch (error) {
          webgpu = 'failed';
          note = `WebGPU could not load the model: ${(error as Error).message}`;
        }
      }
    }
    sessions ??= await createSessions('wasm', model.encoder, model.decoder, options.onProgress);
    const runner = new OrtWebRunner(model, sessions, webgpu, note, options.onBackendChange);
    if (sessions.backend === 'webgpu') await runner.watchDevice();
    return runner;
  }

  get info(): BackendInfo {
    const webgpuUsable = this.webgpu === 'untested' || this.webgpu === 'passed';
    return {
      backend: this.sessions.backend,
      webgpuUsable,
      note: this.note,
      threads: wasmThreads(),
      encoderPrecision: this.running,
      int8Available: this.model.encoderInt8 !== undefined,
    };
  }

  /** Rebuilds the sessions with the fp32 or the int8 encoder; a new encoder's embeddings differ from the cached ones. */
  setEncoderPrecision(precision: EncoderPrecision, onProgress?: (progress: SessionProgress) => void): Promise<BackendInfo> {
    return this.exclusive(async () => {
      if (precision === this.precision) return this.info;
      if (precision === 'int8' && !this.model.encoderInt8) throw new Error('This model has no int8 encoder.');
      const previous = this.precision;
      this.precision = precision;
      const note =
        precision === 'fp32'
          ? 'fp32 encoder chosen.'
          : this.sessions.backend === 'wasm'
            ? 'int8 encoder chosen (experimental, unvalidated on the real weights).'
            : 'The int8 encoder runs on WASM only: fp32 on WebGPU.';
      // A graph that cannot be read (download failed...) leaves the sessions and the choice as they were.
      await this.replaceSessions(this.sessions.backend, note, onProgress).catch((error: unknown) => {
        this.precision = previous;
        throw error;
      });
      return this.info;
    });
  }

  /** Rebuilds the sessions on another backend (from the kept bytes or the model cache, nothing is downloaded). */
  switchBackend(backend: Backend, onProgress?: (progress: SessionProgress) => void): Promise<BackendInfo> {
    return this.exclusive(async () => {
      if (backend === this.sessions.backend) return this.info;
      let note = 'WASM chosen.';
      if (backend === 'webgpu') {
        if (this.webgpu === 'untested') {
          const check = await selfTest(this.model.decoder, onProgress);
          this.webgpu = check.ok ? 'passed' : 'failed';
          this.note = check.note;
        }
        if (this.webgpu !== 'passed') throw new Error(`WebGPU cannot be used: ${this.note}`);
        note = `WebGPU chosen; ${this.note}`;
      }
      await this.replaceSessions(backend, note, onProgress);
      return this.info;
    });
  }

  encode(image: Float32Array): Promise<Float32Array> {
    return this.exclusive(() => whileBusy(this.runFlags.encoding, () => this.withFallback((runner) => runner.encode(image))));
  }

  decode(input: DecodeInput): Promise<DecodeOutput> {
    return this.exclusive(() => whileBusy(this.runFlags.decoding, () => this.withFallback((runner) => runner.decode(input))));
  }

  /**
   * Raises `flags.decoding` while the decoder runs and `flags.encoding` while the encoder runs, not
   * while either waits behind the other: the surface worker keeps out of their way (see
   * surface.worker.ts).
   */
  announceRunsIn(flags: ModelRunFlags): void {
    this.runFlags = flags;
  }

  dispose(): Promise<void> {
    return this.exclusive(() => this.sessions.runner.dispose());
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async withFallback<T>(call: (runner: ModelRunner) => Promise<T>): Promise<T> {
    try {
      return await call(this.sessions.runner);
    } catch (error) {
      if (this.sessions.backend !== 'webgpu') throw error;
      const loss = isDeviceLoss(error)
        ? (error as Error).message
        : this.deviceLoss && (await settledWithin(this.deviceLoss, LOSS_REPORT_GRACE_MS));
      if (!loss) throw error;
      await this.loseWebGpu(`WebGPU device lost (${loss}); now on WASM.`);
      return call(this.sessions.runner);
    }
  }

  private async loseWebGpu(note: string): Promise<void> {
    if (this.sessions.backend !== 'webgpu') return;
    this.webgpu = 'failed';
    await this.replaceSessions('wasm', note);
  }

  private async replaceSessions(backend: Backend, note: string, onProgress?: (progress: SessionProgress) => void): Promise<void> {
    const running = this.precision === 'int8' && backend === 'wasm' ? 'int8' : 'fp32';
    const encoder = running === 'int8' ? this.model.encoderInt8! : this.model.encoder;
    const next = await createSessions(backend, encoder, this.model.decoder, onProgress);
    const previous = this.sessions;
    this.sessions = next;
    this.running = running;
    this.note = note;
    await previous.runner.dispose().catch(() => undefined);
    if (backend === 'webgpu') await this.watchDevice();
    this.onBackendChange?.(this.info);
  }

  /** Falls back to WASM as soon as the GPU device reports its loss, not only on the next failing call. */
  private async watchDevice(): Promise<void> {
    const ort = await ortFor('webgpu');
    const device = (await Promise.resolve(ort.env.webgpu.device).catch(() => undefined)) as
      { lost?: Promise<{ message?: string }> } | undefined;
    const loss = device?.lost?.then((info) => info?.message || 'no reason given');
    this.deviceLoss = loss ?? null;
    void loss?.then((message) => this.exclusive(() => this.loseWebGpu(`WebGPU device lost (${message}); now on WASM.`)));
  }
}
