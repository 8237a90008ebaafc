/**
 * Exported ONNX models (models/export.py: encoder.onnx, decoder.onnx and an optional model.json),
 * from local files or from a URL. Downloads are kept in the model store, so a second visit starts
 * without the network; SHA-256 digests from model.json are checked whatever the source.
 */
import { fetchOk, GRAPHS, type GraphName, ModelLoadError, sha256Hex } from './model-common';
import { openModelStore } from './model-store';

/** The parts of model.json (written by models/export.py) that loading uses. */
export interface ModelManifest {
  name?: string;
  graph?: string;
  encoder?: { file?: string; sha256?: string };
  decoder?: { file?: string; sha256?: string };
  /** The optional int8 encoder (export.py --int8): same inputs and outputs as the encoder. */
  encoder_int8?: { file?: string; sha256?: string };
  [key: string]: unknown;
}

export interface ModelBytes {
  encoder: Uint8Array;
  decoder: Uint8Array;
  manifest: ModelManifest | null;
  /** Where it came from, for messages ("files" or the base URL). */
  source: string;
  /** Whether the manifest held digests and they matched. */
  verified: boolean;
  /** Reads a graph again from where it is kept (the picked file, the model store), where it is. */
  reread: Partial<Record<GraphName, () => Promise<Uint8Array | null>>>;
  /** The int8 encoder when the model has one: read (or downloaded, checked and stored) only when asked for. */
  encoderInt8?: () => Promise<Uint8Array>;
}

export interface ModelLoadProgress {
  phase: 'download' | 'verify';
  file: string;
  loadedBytes: number;
  /** Unknown when the server sends no Content-Length. */
  totalBytes: number | null;
  fromCache: boolean;
}

export type ModelProgressCallback = (progress: ModelLoadProgress) => void;

export interface LocalModelFiles {
  encoder: Blob;
  decoder: Blob;
  manifest?: Blob;
  encoderInt8?: Blob;
}

export async function loadModelFromFiles(files: LocalModelFiles, onProgress?: ModelProgressCallback): Promise<ModelBytes> {
  const manifest = files.manifest ? parseManifest(await files.manifest.text(), 'model.json') : null;
  const read = async (blob: Blob, file: string) => {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    onProgress?.({ phase: 'download', file, loadedBytes: bytes.length, totalBytes: bytes.length, fromCache: false });
    return bytes;
  };
  const encoder = await read(files.encoder, 'encoder.onnx');
  const decoder = await read(files.decoder, 'decoder.onnx');
  const verified = await verifyAll(manifest, { encoder, decoder }, onProgress);
  const reread = (blob: Blob) => async () => new Uint8Array(await blob.arrayBuffer());
  const int8 = files.encoderInt8;
  const encoderInt8 =
    int8 &&
    (async () => {
      const bytes = await reread(int8)();
      const expected = manifest?.encoder_int8?.sha256?.toLowerCase();
      if (expected) await verify('encoder_int8.onnx', bytes, expected);
      return bytes;
    });
  return {
    encoder,
    decoder,
    manifest,
    source: 'files',
    verified,
    reread: { encoder: reread(files.encoder), decoder: reread(files.decoder) },
    encoderInt8,
  };
}

/**
 * Loads `<baseUrl>/encoder.onnx`, `decoder.onnx` and, when present, `model.json`. Stored graphs are
 * used when they still match model.json; a mismatching stored copy is downloaded again.
 */
export async function loadModelFromUrl(
  baseUrl: string,
  options: { onProgress?: ModelProgressCallback; signal?: AbortSignal } = {},
): Promise<ModelBytes> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const store = await openModelStore();
  const manifest = await fetchManifest(`${base}model.json`, options.signal);
  const bytes: Partial<Record<GraphName, Uint8Array>> = {};
  const reread: ModelBytes['reread'] = {};
  /** A graph from the model store when it still matches model.json, else downloaded (and stored). */
  const load = async (file: string, expected: string | undefined, progress = options.onProgress) => {
    const url = new URL(file, new URL(base, globalThis.location?.href)).href;
    // Stored under a name made from the URL: the same file name at another URL is another model.
    const path = `exported/${(await sha256Hex(new TextEncoder().encode(url))).slice(0, 32)}`;
    const stored = await store.read(path);
    if (stored) {
      progress?.({ phase: 'download', file, loadedBytes: stored.length, totalBytes: stored.length, fromCache: true });
      if (!expected || (await sha256Hex(stored)) === expected) return { data: stored, reread: () => store.read(path) };
    }
    const response = await fetchOk(url, `${file} from ${url}`, options.signal);
    const data = await readWithProgress(response, file, progress);
    if (expected) await verify(file, data, expected, progress);
    // The model works without the store: a failed write (storage full...) only costs the next visit a download.
    const kept = await store.write(path, data).then(
      () => true,
      () => false,
    );
    return { data, reread: kept ? () => store.read(path) : undefined };
  };
  for (const graph of GRAPHS) {
    const loaded = await load(graphFile(manifest, graph), expectedDigest(manifest, graph));
    bytes[graph] = loaded.data;
    if (loaded.reread) reread[graph] = loaded.reread;
  }
  const int8 = manifest?.encoder_int8;
  const encoderInt8 = int8 && (async () => (await load(int8.file ?? 'encoder_int8.onnx', int8.sha256?.toLowerCase(), undefined)).data);
  return {
    encoder: bytes.encoder!,
    decoder: bytes.decoder!,
    manifest,
    source: base,
    verified: GRAPHS.every((graph) => expectedDigest(manifest, graph)),
    reread,
    encoderInt8,
  };
}

function expectedDigest(manifest: ModelManifest | null, graph: GraphName): string | undefined {
  return manifest?.[graph]?.sha256?.toLowerCase();
}

function graphFile(manifest: ModelManifest | null, graph: GraphName): string {
  return manifest?.[graph]?.file ?? `${graph}.onnx`;
}

async function verify(file: string, data: Uint8Array, expected: string, onProgress?: ModelProgressCallback): Promise<void> {
  onProgress?.({ phase: 'verify', file, loadedBytes: data.length, totalBytes: data.length, fromCache: false });
  const actual = await sha256Hex(data);
  if (actual !== expected) {
    throw new ModelLoadError(
      `${file} does not match model.json (SHA-256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…): ` +
        'the file is damaged or belongs to another model.',
    );
  }
}

async function verifyAll(
  manifest: ModelManifest | null,
  graphs: Record<GraphName, Uint8Array>,
  onProgress?: ModelProgressCallback,
): Promise<boolean> {
  let verified = true;
  for (const graph of GRAPHS) {
    const expected = expectedDigest(manifest, graph);
    if (expected) await verify(`${graph}.onnx`, graphs[graph], expected, onProgress);
    else verified = false;
  }
  return verified;
}

function parseManifest(text: string, where: string): ModelManifest {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as ModelManifest;
  } catch (error) {
    throw new ModelLoadError(`${where} is not a valid model description: ${(error as Error).message}.`);
  }
}

/** model.json is optional: a missing one (404) is fine, a broken one is an error. */
async function fetchManifest(url: string, signal?: AbortSignal): Promise<ModelManifest | null> {
  let response: Response;
  try {
    response = await fetch(url, { signal, cache: 'no-cache' });
  } catch {
    return null; // Offline: cached graphs can still be used, unverified.
  }
  if (response.status === 404) return null;
  if (!response.ok) throw new ModelLoadError(`Could not download ${url}: HTTP ${response.status}.`);
  return parseManifest(await response.text(), url);
}

async function readWithProgress(response: Response, file: string, onProgress?: ModelProgressCallback): Promise<Uint8Array> {
  const header = response.headers.get('Content-Length');
  const totalBytes = header ? Number(header) : null;
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loadedBytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loadedBytes += value.length;
    onProgress?.({ phase: 'download', file, loadedBytes, totalBytes, fromCache: false });
  }
  const data = new Uint8Array(loadedBytes);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
  }
  return data;
}
