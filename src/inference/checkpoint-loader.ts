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
import {
  buildWeightsFile,
  checkTemplateFits,
  parseTemplateManifest,
  writeWeights,
  type TemplateGraph,
  type TemplateManifest,
} from '../core/pth/template-weights';
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
 * Builds each graph's weights from the checkpoint and stores everything under `key`, one graph
 * at a time. Where the store writes files piece by piece (OPFS in a worker), each tensor goes
 * straight to its place in the stored weights file and sessions read that file range by range:
 * the weights are never whole in JS memory. Elsewhere a graph's weights are built in memory,
 * stored, then dropped (read again when sessions are built).
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
  const remember = (error: unknown) => void (cacheError ??= (error as Error).message);
  const cache = (path: string, data: Uint8Array) => (cacheError ? Promise.resolve() : store.write(path, data).catch(remember));
  for (const name of GRAPH_NAMES) {
    const graph = templates.manifest.graphs[name];
    if (!graph) throw new ModelLoadError(`The ${templates.name} templates have no ${name} graph.`);
    const onTensor = (done: number, total: number) => onProgress?.({ phase: 'checkpoint', step: 'convert', graph: name, done, total });
    const model = await fetchBytes(new URL(graph.model, templates.baseUrl).href);
    await cache(`${key}/${graph.model}`, model);
    const weightsPath = `${key}/${graph.weightsFile}`;
    const stored = !cacheError && (await storeWeights(store, weightsPath, graph, checkpoint, label, onTensor, remember));
    let bytes: TemplateGraphBytes | null = null;
    if (!stored) {
      const data = await buildWeights(graph, checkpoint, label, onTensor);
      await cache(weightsPath, data);
      bytes = { model, weights: { path: graph.weightsFile, data } };
    }
    info.graphs[name] = { model: graph.model, weightsFile: graph.weightsFile, weightsBytes: graph.weightsBytes };
    graphs[name] = bytes && cacheError ? bytes : cachedGraph(store, key, name, info.graphs[name], label, { checkpoint, templates });
  }
  await cache(`${key}/${INFO_FILE}`, new TextEncoder().encode(JSON.stringify(info)));
  return { name: templates.name, source: label, fromCache: false, cacheError, encoder: graphs.encoder!, decoder: graphs.decoder! };
}

/**
 * Writes a graph's weights from the checkpoint straight into the stored file `path`, tensor by
 * tensor. False when the store cannot write piece by piece, or failed to (storage full...; the
 * reason goes to `onStoreError`). Checkpoint errors are thrown.
 */
async function storeWeights(
  store: ModelStore,
  path: string,
  graph: TemplateGraph,
  checkpoint: Checkpoint,
  label: string,
  onTensor: (done: number, total: number) => void,
  onStoreError: (error: unknown) => void,
): Promise<boolean> {
  const writer = await store.openWriter(path, graph.weightsBytes).catch((error: unknown) => {
    onStoreError(error);
    return null;
  });
  if (!writer) return false;
  await writeWeights(graph, checkpoint, writer.write, onTensor).catch(async (error: unknown) => {
    await writer.close().catch(() => undefined);
    throw userError(error, label);
  });
  return writer.close().then(
    () => true,
    (error: unknown) => {
      onStoreError(error);
      return false;
    },
  );
}

/** One graph's weights built in memory from the checkpoint. */
function buildWeights(
  graph: TemplateGraph,
  checkpoint: Checkpoint,
  label: string,
  onTensor?: (done: number, total: number) => void,
): Promise<Uint8Array> {
  return buildWeightsFile(graph, checkpoint, onTensor).catch((error: unknown) => {
    throw userError(error, label);
  });
}

/** One graph's template and its weights built from the checkpoint. */
async function buildGraph(checkpoint: Checkpoint, templates: TemplateSet, name: GraphName, label: string): Promise<TemplateGraphBytes> {
  const graph = templates.manifest.graphs[name];
  if (!graph) throw new ModelLoadError(`The ${templates.name} templates have no ${name} graph.`);
  const model = await fetchBytes(new URL(graph.model, templates.baseUrl).href);
  return { model, weights: { path: graph.weightsFile, data: await buildWeights(graph, checkpoint, label) } };
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
    const weights = await store.file(`${key}/${files.weightsFile}`);
    if (model && weights?.size === files.weightsBytes) return { model, weights: { path: files.weightsFile, data: await externalData(weights) } };
    if (origin) return buildGraph(origin.checkpoint, origin.templates, name, label);
    throw new ModelLoadError(`The cached model converted from ${label} was removed: open the checkpoint again.`);
  };
}

/**
 * A stored weights file as onnxruntime-web's external data. In a worker, a view that reads the
 * file range by range: onnxruntime-web 1.30 copies external data into the WASM heap with one
 * `subarray(begin, end)` per initializer (after checking `byteLength`), so the weights are never
 * whole in JS memory next to the heap's copy. Elsewhere (no synchronous reads), the whole file.
 */
async function externalData(file: Blob): Promise<Uint8Array> {
  const { FileReaderSync } = globalThis as { FileReaderSync?: FileReaderSyncClass };
  return FileReaderSync ? new BlobBytes(file, new FileReaderSync()) : new Uint8Array(await file.arrayBuffer());
}

/** Worker-only APIs, declared here because this file also compiles against lib.dom alone. */
type FileReaderSyncClass = new () => { readAsArrayBuffer(blob: Blob): ArrayBuffer };
interface SyncAccessHandle {
  write(data: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

class BlobBytes extends Uint8Array {
  constructor(
    private readonly blob: Blob,
    private readonly reader: InstanceType<FileReaderSyncClass>,
  ) {
    super(0);
    Object.defineProperty(this, 'byteLength', { value: blob.size });
  }

  override subarray(begin = 0, end = this.blob.size): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.reader.readAsArrayBuffer(this.blob.slice(begin, end)));
  }
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
    const model = await store.file(`${key}/${files.model}`);
    if (!model || (await store.file(`${key}/${files.weightsFile}`))?.size !== files.weightsBytes) return null;
    graphs[name] = cachedGraph(store, key, name, files, label, origin);
  }
  return { name: info.name, source: label, fromCache: true, encoder: graphs.encoder!, decoder: graphs.decoder! };
}

/** Files under relative paths ("key/file"), in OPFS when the browser has it, else in Cache Storage. */
interface ModelStore {
  read(path: string): Promise<Uint8Array | null>;
  /** A stored file as a Blob (its bytes are read only when asked for), or null when it is absent. */
  file(path: string): Promise<Blob | null>;
  readJson<T>(path: string): Promise<T | null>;
  write(path: string, data: Uint8Array): Promise<void>;
  /** A writer of the `size`-byte file `path`, piece by piece, or null where this store cannot write that way. */
  openWriter(path: string, size: number): Promise<PieceWriter | null>;
  clear(): Promise<void>;
}

/** Writes a file's pieces at their offsets; the first failed write (storage full...) makes close() throw. */
interface PieceWriter {
  write(offset: number, bytes: Uint8Array): void;
  close(): Promise<void>;
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
    file: stored,
    async write(path, data) {
      const [dir, name] = await folder(path, true);
      const writable = await (await dir.getFileHandle(name, { create: true })).createWritable();
      // In slices: each write is copied to the browser process, a whole weights file at once would double it there.
      for (let offset = 0; offset < data.byteLength; offset += WRITE_SLICE_BYTES) {
        await writable.write(data.subarray(offset, offset + WRITE_SLICE_BYTES) as Uint8Array<ArrayBuffer>);
      }
      await writable.close();
    },
    async openWriter(path, size) {
      // Synchronous access handles (dedicated workers) write to the file itself, with no copy
      // buffered in the browser process as createWritable() makes.
      if (!('createSyncAccessHandle' in FileSystemFileHandle.prototype)) return null;
      const [dir, name] = await folder(path, true);
      const file = (await dir.getFileHandle(name, { create: true })) as FileSystemFileHandle & {
        createSyncAccessHandle(): Promise<SyncAccessHandle>;
      };
      const handle = await file.createSyncAccessHandle();
      handle.truncate(size);
      let failure: unknown;
      return {
        write(offset, bytes) {
          if (failure !== undefined) return;
          try {
            if (handle.write(bytes, { at: offset }) !== bytes.byteLength) throw new Error('the disk is full');
          } catch (error) {
            failure = error;
          }
        },
        async close() {
          handle.flush();
          handle.close();
          if (failure !== undefined) throw failure;
        },
      };
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
    async file(path) {
      const response = await (await caches.open(STORE_NAME)).match(url(path));
      return response ? await response.blob() : null;
    },
    async write(path, data) {
      await (await caches.open(STORE_NAME)).put(url(path), new Response(data as Uint8Array<ArrayBuffer>));
    },
    openWriter: () => Promise.resolve(null),
    async clear() {
      await caches.delete(STORE_NAME);
    },
  };
}
