/**
 * Loads the two ONNX graphs of a SAM-Med3D model (and its optional model.json) from local files or
 * from a URL. Downloads are kept in Cache Storage, so a second visit starts without the network;
 * SHA-256 digests from model.json are checked whatever the source.
 */

export const GRAPHS = ['encoder', 'decoder'] as const;
export type GraphName = (typeof GRAPHS)[number];

/** The parts of model.json (written by models/export.py) that loading uses. */
export interface ModelManifest {
  name?: string;
  graph?: string;
  encoder?: { file?: string; sha256?: string };
  decoder?: { file?: string; sha256?: string };
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

export const MODEL_CACHE_NAME = 'sam-med3d-models-v1';

/** Error with a message meant for the user. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export interface LocalModelFiles {
  encoder: Blob;
  decoder: Blob;
  manifest?: Blob;
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
  return { encoder, decoder, manifest, source: 'files', verified };
}

/**
 * Loads `<baseUrl>/encoder.onnx`, `decoder.onnx` and, when present, `model.json`. Cached graphs are
 * used when they still match model.json; a mismatching cached copy is downloaded again.
 */
export async function loadModelFromUrl(
  baseUrl: string,
  options: { onProgress?: ModelProgressCallback; signal?: AbortSignal; useCache?: boolean } = {},
): Promise<ModelBytes> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const cache = options.useCache !== false && typeof caches !== 'undefined' ? await caches.open(MODEL_CACHE_NAME) : null;
  const manifest = await fetchManifest(`${base}model.json`, options.signal);
  const bytes: Partial<Record<GraphName, Uint8Array>> = {};
  for (const graph of GRAPHS) {
    const file = graphFile(manifest, graph);
    const url = new URL(file, new URL(base, globalThis.location?.href)).href;
    const expected = expectedDigest(manifest, graph);
    const cached = cache ? await cache.match(url) : undefined;
    if (cached) {
      const data = await readWithProgress(cached, file, true, options.onProgress);
      if (!expected || (await sha256Hex(data)) === expected) {
        bytes[graph] = data;
        continue;
      }
      await cache!.delete(url);
    }
    const response = await fetch(url, { signal: options.signal }).catch((error: unknown) => {
      throw new ModelLoadError(`Could not download ${file} from ${url}: ${(error as Error).message}`);
    });
    if (!response.ok) throw new ModelLoadError(`Could not download ${file} from ${url}: HTTP ${response.status}.`);
    const data = await readWithProgress(response, file, false, options.onProgress);
    if (expected) await verify(file, data, expected, options.onProgress);
    await cache?.put(url, new Response(data as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': 'application/octet-stream' } }));
    bytes[graph] = data;
  }
  return {
    encoder: bytes.encoder!,
    decoder: bytes.decoder!,
    manifest,
    source: base,
    verified: GRAPHS.every((graph) => expectedDigest(manifest, graph)),
  };
}

/** Forgets every downloaded model (the next load downloads again). */
export async function clearModelCache(): Promise<void> {
  if (typeof caches !== 'undefined') await caches.delete(MODEL_CACHE_NAME);
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
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

async function readWithProgress(
  response: Response,
  file: string,
  fromCache: boolean,
  onProgress?: ModelProgressCallback,
): Promise<Uint8Array> {
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
    onProgress?.({ phase: 'download', file, loadedBytes, totalBytes, fromCache });
  }
  const data = new Uint8Array(loadedBytes);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
  }
  return data;
}
