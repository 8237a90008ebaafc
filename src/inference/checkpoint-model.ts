/**
 * The official PyTorch checkpoint (sam_med3d_turbo.pth) as a model, in the browser, with no
 * Python: the state dict is read from a local file or over HTTP with Range requests (only the
 * model weights are transferred), matched against the weight-free graph templates the app ships
 * (models/templates.json lists them), and turned into the templates' external weights. The
 * converted model is kept in the model store under a key made of the checkpoint's fingerprint
 * and the templates' digest, so the next visit starts without the network.
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
import { fetchOk, GRAPHS, type GraphName, ModelLoadError, sha256Hex } from './model-common';
import { externalData, type ModelStore, openModelStore } from './model-store';
import type { GraphBytes, GraphInput } from './ort-web-runner';

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

export interface CheckpointModel {
  /** The template set's name, e.g. "SAM-Med3D turbo (ViT-B)". */
  name: string;
  /** The file name or URL, for messages. */
  source: string;
  fromCache: boolean;
  /** Why a freshly converted model could not be cached (storage full...), if it could not. */
  cacheError?: string;
  /**
   * Each graph's template with its weights as external data, or (once they are cached) a function
   * that reads them again: the runner does not have to keep a copy of the weights to rebuild its
   * sessions on another backend.
   */
  encoder: GraphInput;
  decoder: GraphInput;
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

/** The store's folder of converted checkpoints, one folder per cache key. */
const FOLDER = 'checkpoints';
const INFO_FILE = 'model.json';
/** url -> cache key, so a cached download is found without the network. */
const SOURCES_FILE = `${FOLDER}/sources.json`;

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
  const key = `${FOLDER}/${checkpoint.fingerprint.slice(0, 32)}-${templatesKey(templates)}`;
  const model =
    (await readCached(store, key, label, { checkpoint, templates }, options.onProgress)) ??
    (await convert(checkpoint, templates, store, key, label, options.onProgress));
  if ('url' in input && !model.cacheError) {
    const sources = (await store.readJson<Record<string, string>>(SOURCES_FILE)) ?? {};
    await store.write(SOURCES_FILE, new TextEncoder().encode(JSON.stringify({ ...sources, [input.url]: key })));
  }
  return model;
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
  return new Uint8Array(await (await fetchOk(url, url, signal)).arrayBuffer());
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
  const graphs: Partial<Record<GraphName, GraphInput>> = {};
  const info: CachedModelInfo = { name: templates.name, graphs: {} as CachedModelInfo['graphs'] };
  // The model works without the cache: a failed write only costs the next visit a conversion.
  let cacheError: string | undefined;
  const remember = (error: unknown) => void (cacheError ??= (error as Error).message);
  const cache = (path: string, data: Uint8Array) => (cacheError ? Promise.resolve() : store.write(path, data).catch(remember));
  for (const name of GRAPHS) {
    const graph = templates.manifest.graphs[name];
    if (!graph) throw new ModelLoadError(`The ${templates.name} templates have no ${name} graph.`);
    const onTensor = (done: number, total: number) => onProgress?.({ phase: 'checkpoint', step: 'convert', graph: name, done, total });
    const model = await fetchBytes(new URL(graph.model, templates.baseUrl).href);
    await cache(`${key}/${graph.model}`, model);
    const weightsPath = `${key}/${graph.weightsFile}`;
    const stored = !cacheError && (await storeWeights(store, weightsPath, graph, checkpoint, label, onTensor, remember));
    let bytes: GraphBytes | null = null;
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
async function buildGraph(checkpoint: Checkpoint, templates: TemplateSet, name: GraphName, label: string): Promise<GraphBytes> {
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
): () => Promise<GraphBytes> {
  return async () => {
    const model = await store.read(`${key}/${files.model}`);
    const weights = await store.file(`${key}/${files.weightsFile}`);
    if (model && weights?.size === files.weightsBytes)
      return { model, weights: { path: files.weightsFile, data: await externalData(weights) } };
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
  const graphs: Partial<Record<GraphName, GraphInput>> = {};
  for (const [n, name] of GRAPHS.entries()) {
    onProgress?.({ phase: 'checkpoint', step: 'cache', graph: name, done: n, total: GRAPHS.length });
    const files = info.graphs[name];
    const model = await store.file(`${key}/${files.model}`);
    if (!model || (await store.file(`${key}/${files.weightsFile}`))?.size !== files.weightsBytes) return null;
    graphs[name] = cachedGraph(store, key, name, files, label, origin);
  }
  return { name: info.name, source: label, fromCache: true, encoder: graphs.encoder!, decoder: graphs.decoder! };
}
