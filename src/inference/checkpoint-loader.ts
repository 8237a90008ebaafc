/**
 * The official PyTorch checkpoint (sam_med3d_turbo.pth) as a model, in the browser, with no
 * Python: the state dict is read from a local file or over HTTP with Range requests (only the
 * model weights are transferred), matched against the weight-free graph templates the app ships
 * (models/templates.json lists them), and turned into the templates' external weights. The
 * converted model is cached (OPFS, else Cache Storage) under a key made of the checkpoint's
 * fingerprint and the templates' digest, so the next visit starts without the network.
 */
import { blobSource, openHttpSource, type ByteSource } from '../core/pth/byte-source';
import { Checkpoint } from '../core/pth/checkpoint';
import { CheckpointError } from '../core/pth/errors';
import { buildWeightsFile, checkTemplateFits, parseTemplateManifest, type TemplateManifest } from '../core/pth/template-weights';
import { ModelLoadError, sha256Hex, type GraphName } from './model-loader';

export const OFFICIAL_CHECKPOINT_URL = 'https://huggingface.co/blueyo0/SAM-Med3D/resolve/main/sam_med3d_turbo.pth';

export type CheckpointInput = { file: Blob & { name?: string } } | { url: string };

export interface CheckpointLoadProgress {
  phase: 'checkpoint';
  step: 'open' | 'convert' | 'cache';
  /** The graph being converted (step 'convert'). */
  graph?: string;
  done: number;
  total: number;
}

/** A graph's template and the weights it reads as external data (onnxruntime's `externalData`). */
export interface TemplateGraphBytes {
  model: Uint8Array;
  weights: { path: string; data: Uint8Array };
}

/**
 * A graph's bytes, or (once they are cached) a function that reads them again: the caller does
 * not have to keep a copy of the weights to rebuild its sessions on another backend.
 */
export type TemplateGraphSource = TemplateGraphBytes | (() => Promise<TemplateGraphBytes>);

export interface CheckpointModel {
  /** The template set's name, e.g. "SAM-Med3D turbo (ViT-B)". */
  name: string;
  /** The file name or URL, for messages. */
  source: string;
  fromCache: boolean;
  /** Why a freshly converted model could not be cached (storage full...), if it could not. */
  cacheError?: string;
  encoder: TemplateGraphSource;
  decoder: TemplateGraphSource;
}

/** One entry of models/templates.json: a template set and its manifest, relative to the index. */
interface TemplateSetEntry {
  name: string;
  manifest: string;
}

/** What a cache entry records (written last: an entry without it is incomplete). */
interface CachedModelInfo {
  name: string;
  graphs: Record<GraphName, { model: string; weightsFile: string; weightsBytes: number }>;
}

const GRAPH_NAMES: readonly GraphName[] = ['encoder', 'decoder'];
const INFO_FILE = 'model.json';
/** url -> cache key, so a cached download is found without the network. */
const SOURCES_FILE = 'sources.json';

export interface LoadCheckpointOptions {
  /** Absolute URL of models/templates.json. */
  templateIndexUrl: string;
  onProgress?: (progress: CheckpointLoadProgress) => void;
  signal?: AbortSignal;
}

export async function loadCheckpointModel(input: CheckpointInput, options: LoadCheckpointOptions): Promise<CheckpointModel> {
  const store = await openModelStore();
  const label = 'url' in input ? input.url : (input.file.name ?? 'the checkpoint');
  const templateSets = await loadTemplateSets(options.templateIndexUrl, options.signal);
  if ('url' in input) {
    // Converted before with templates the app still ships: no need to touch the network.
    const key = (await store.readJson<Record<string, string>>(SOURCES_FILE))?.[input.url];
    const current = key !== undefined && templateSets.some((set) => key.endsWith(templatesKey(set)));
    const cached = current ? await readCached(store, key, label, null, options.onProgress) : null;
    if (cached) return cached;
  }
  const source = 'url' in input ? await openRemote(input.url, options.signal) : blobSource(input.file);
  options.onProgress?.({ phase: 'checkpoint', step: 'open', done: 0, total: 1 });
  const checkpoint = await Checkpoint.open(source).catch((error: unknown) => {
    throw userError(error, label);
  });
  const templates = chooseTemplates(checkpoint, templateSets);
  const key = `${checkpoint.fingerprint.slice(0, 32)}-${templatesKey(templates)}`;
  const model =
    (await readCached(store, key, label, { checkpoint, templates }, options.onProgress)) ??
    (await convert(checkpoint, templates, store, key, label, options.onProgress));
  if ('url' in input && !model.cacheError) {
    const sources = (await store.readJson<Record<string, string>>(SOURCES_FILE)) ?? {};
    await store.write(SOURCES_FILE, new TextEncoder().encode(JSON.stringify({ ...sources, [input.url]: key })));
  }
  return model;
}

/** Forgets every converted checkpoint (the next load reads the checkpoint again). */
export async function clearCheckpointCache(): Promise<void> {
  await (await openModelStore()).clear();
}

async function openRemote(url: string, signal?: AbortSignal): Promise<ByteSource> {
  try {
    return await openHttpSource(url, { signal });
  } catch (error) {
    throw new ModelLoadError(
      `The model cannot be fetched from ${url} (${(error as Error).message}): you may be offline, or the server is unreachable. ` +
        'Download sam_med3d_turbo.pth on a connected machine and open it with "Open checkpoint (.pth)".',
    );
  }
}

function userError(error: unknown, label: string): Error {
  if (error instanceof CheckpointError) return new ModelLoadError(`${label}: ${error.message}`);
  return error as Error;
}

interface TemplateSet {
  name: string;
  manifest: TemplateManifest;
  /** SHA-256 of manifest.json: templates made by another exporter give another cache key. */
  digest: string;
  baseUrl: string;
}

/** The template sets models/templates.json lists (their manifests are small). */
async function loadTemplateSets(indexUrl: string, signal?: AbortSignal): Promise<TemplateSet[]> {
  const entries = JSON.parse(new TextDecoder().decode(await fetchBytes(indexUrl, signal))) as TemplateSetEntry[];
  return Promise.all(
    entries.map(async (entry) => {
      const baseUrl = new URL(entry.manifest, indexUrl).href;
      const bytes = await fetchBytes(baseUrl, signal);
      const manifest = parseTemplateManifest(JSON.parse(new TextDecoder().decode(bytes)));
      return { name: entry.name, manifest, digest: await sha256Hex(bytes), baseUrl };
    }),
  );
}

/** The part of a cache key that names the templates (format version and manifest digest). */
function templatesKey(set: TemplateSet): string {
  return `t${set.manifest.version}-${set.digest.slice(0, 16)}`;
}

/** The template set whose expected tensors (names and shapes) are exactly the checkpoint's. */
function chooseTemplates(checkpoint: Checkpoint, sets: TemplateSet[]): TemplateSet {
  const misfits: string[] = [];
  for (const set of sets) {
    try {
      checkTemplateFits(set.manifest, checkpoint);
      return set;
    } catch (error) {
      misfits.push(`${set.name}: ${(error as Error).message}`);
    }
  }
  throw new ModelLoadError(`This checkpoint is not a SAM-Med3D configuration the app knows. ${misfits.join(' ')}`);
}

async function fetchBytes(url: string, signal?: AbortSignal): Promise<Uint8Array> {
  const response = await fetch(url, { signal }).catch((error: unknown) => {
    throw new ModelLoadError(`Could not download ${url}: ${(error as Error).message}`);
  });
  if (!response.ok) throw new ModelLoadError(`Could not download ${url}: HTTP ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Builds each graph's weights from the checkpoint and stores everything under `key`. One graph at
 * a time, and a cached graph's bytes are dropped (read again when sessions are built): the peak is
 * one graph's weights plus one tensor.
 */
async function convert(
  checkpoint: Checkpoint,
  templates: TemplateSet,
  store: ModelStore,
  key: string,
  label: string,
  onProgress?: (progress: CheckpointLoadProgress) => void,
): Promise<CheckpointModel> {
  const graphs: Partial<Record<GraphName, TemplateGraphSource>> = {};
  const info: CachedModelInfo = { name: templates.name, graphs: {} as CachedModelInfo['graphs'] };
  // The model works without the cache: a failed write only costs the next visit a conversion.
  let cacheError: string | undefined;
  const cache = (path: string, data: Uint8Array) =>
    cacheError ? Promise.resolve() : store.write(path, data).catch((error: unknown) => void (cacheError = (error as Error).message));
  for (const name of GRAPH_NAMES) {
    const graph = templates.manifest.graphs[name];
    if (!graph) throw new ModelLoadError(`The ${templates.name} templates have no ${name} graph.`);
    const bytes = await buildGraph(checkpoint, templates, name, label, (done, total) =>
      onProgress?.({ phase: 'checkpoint', step: 'convert', graph: name, done, total }),
    );
    await cache(`${key}/${graph.model}`, bytes.model);
    await cache(`${key}/${graph.weightsFile}`, bytes.weights.data);
    info.graphs[name] = { model: graph.model, weightsFile: graph.weightsFile, weightsBytes: graph.weightsBytes };
    graphs[name] = cacheError ? bytes : cachedGraph(store, key, name, info.graphs[name], label, { checkpoint, templates });
  }
  await cache(`${key}/${INFO_FILE}`, new TextEncoder().encode(JSON.stringify(info)));
  return { name: templates.name, source: label, fromCache: false, cacheError, encoder: graphs.encoder!, decoder: graphs.decoder! };
}

/** One graph's template and its weights built from the checkpoint. */
async function buildGraph(
  checkpoint: Checkpoint,
  templates: TemplateSet,
  name: GraphName,
  label: string,
  onTensor?: (done: number, total: number) => void,
): Promise<TemplateGraphBytes> {
  const graph = templates.manifest.graphs[name];
  if (!graph) throw new ModelLoadError(`The ${templates.name} templates have no ${name} graph.`);
  const model = await fetchBytes(new URL(graph.model, templates.baseUrl).href);
  const data = await buildWeightsFile(graph, checkpoint, onTensor).catch((error: unknown) => {
    throw userError(error, label);
  });
  return { model, weights: { path: graph.weightsFile, data } };
}

/**
 * Reads a cached graph when called; if the cache was cleared meanwhile, converts it again from
 * `origin` (an open checkpoint: a local file, or Range requests), when there is one.
 */
function cachedGraph(
  store: ModelStore,
  key: string,
  name: GraphName,
  files: CachedModelInfo['graphs'][GraphName],
  label: string,
  origin: { checkpoint: Checkpoint; templates: TemplateSet } | null,
): () => Promise<TemplateGraphBytes> {
  return async () => {
    const model = await store.read(`${key}/${files.model}`);
    const data = await store.read(`${key}/${files.weightsFile}`);
    if (model && data?.byteLength === files.weightsBytes) return { model, weights: { path: files.weightsFile, data } };
    if (origin) return buildGraph(origin.checkpoint, origin.templates, name, label);
    throw new ModelLoadError(`The cached model converted from ${label} was removed: open the checkpoint again.`);
  };
}

/** The converted model stored under `key` (as readers of its files), or null when it is absent or incomplete. */
async function readCached(
  store: ModelStore,
  key: string,
  label: string,
  origin: { checkpoint: Checkpoint; templates: TemplateSet } | null,
  onProgress?: (progress: CheckpointLoadProgress) => void,
): Promise<CheckpointModel | null> {
  const info = await store.readJson<CachedModelInfo>(`${key}/${INFO_FILE}`);
  if (!info) return null;
  const graphs: Partial<Record<GraphName, TemplateGraphSource>> = {};
  for (const [n, name] of GRAPH_NAMES.entries()) {
    onProgress?.({ phase: 'checkpoint', step: 'cache', graph: name, done: n, total: GRAPH_NAMES.length });
    const files = info.graphs[name];
    const modelSize = await store.size(`${key}/${files.model}`);
    if (modelSize === null || (await store.size(`${key}/${files.weightsFile}`)) !== files.weightsBytes) return null;
    graphs[name] = cachedGraph(store, key, name, files, label, origin);
  }
  return { name: info.name, source: label, fromCache: true, encoder: graphs.encoder!, decoder: graphs.decoder! };
}

/** Files under relative paths ("key/file"), in OPFS when the browser has it, else in Cache Storage. */
interface ModelStore {
  read(path: string): Promise<Uint8Array | null>;
  /** The size in bytes of a stored file (without reading it), or null when it is absent. */
  size(path: string): Promise<number | null>;
  readJson<T>(path: string): Promise<T | null>;
  write(path: string, data: Uint8Array): Promise<void>;
  clear(): Promise<void>;
}

const STORE_NAME = 'sam-med3d-checkpoints-v1';
const WRITE_SLICE_BYTES = 16 << 20;

async function openModelStore(): Promise<ModelStore> {
  const root = await navigator.storage?.getDirectory?.().catch(() => undefined);
  const store = root ? opfsStore(root) : cacheStore();
  return {
    ...store,
    async readJson<T>(path: string) {
      const bytes = await store.read(path);
      return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as T) : null;
    },
  };
}

function opfsStore(root: FileSystemDirectoryHandle): Omit<ModelStore, 'readJson'> {
  const folder = async (path: string, create: boolean): Promise<[FileSystemDirectoryHandle, string]> => {
    const parts = [STORE_NAME, ...path.split('/')];
    let dir = root;
    for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create });
    return [dir, parts[parts.length - 1]];
  };
  const stored = async (path: string): Promise<File | null> => {
    try {
      const [dir, name] = await folder(path, false);
      return await (await dir.getFileHandle(name)).getFile();
    } catch {
      return null; // NotFoundError: not cached
    }
  };
  return {
    async read(path) {
      const file = await stored(path);
      return file ? new Uint8Array(await file.arrayBuffer()) : null;
    },
    async size(path) {
      return (await stored(path))?.size ?? null;
    },
    async write(path, data) {
      const [dir, name] = await folder(path, true);
      const writable = await (await dir.getFileHandle(name, { create: true })).createWritable();
      // In slices: each write is copied to the browser process, a whole weights file at once would double it there.
      for (let offset = 0; offset < data.byteLength; offset += WRITE_SLICE_BYTES) {
        await writable.write(data.subarray(offset, offset + WRITE_SLICE_BYTES) as Uint8Array<ArrayBuffer>);
      }
      await writable.close();
    },
    async clear() {
      await root.removeEntry(STORE_NAME, { recursive: true }).catch(() => undefined);
    },
  };
}

function cacheStore(): Omit<ModelStore, 'readJson'> {
  // Cache Storage keys are URLs: the paths live under a made-up folder of this origin.
  const url = (path: string) => new URL(`/${STORE_NAME}/${path}`, globalThis.location.href).href;
  return {
    async read(path) {
      const response = await (await caches.open(STORE_NAME)).match(url(path));
      return response ? new Uint8Array(await response.arrayBuffer()) : null;
    },
    async size(path) {
      const response = await (await caches.open(STORE_NAME)).match(url(path));
      return response ? (await response.blob()).size : null;
    },
    async write(path, data) {
      await (await caches.open(STORE_NAME)).put(url(path), new Response(data as Uint8Array<ArrayBuffer>));
    },
    async clear() {
      await caches.delete(STORE_NAME);
    },
  };
}
