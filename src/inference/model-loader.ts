/**
 * The one way to get a model's two graphs, whatever its source: exported ONNX files (picked
 * locally or downloaded from a URL, exported-model.ts) or the official PyTorch checkpoint
 * converted in the browser (checkpoint-model.ts). Both keep what they fetch or convert in the
 * model store (model-store.ts), which "Clear cache" empties.
 */
import { type CheckpointInput, type CheckpointLoadProgress, loadCheckpointModel } from './checkpoint-model';
import { type ModelLoadProgress, loadModelFromFiles, loadModelFromUrl } from './exported-model';
import type { GraphInput } from './ort-web-runner';

export type ModelSource =
  | { kind: 'url'; url: string }
  | { kind: 'files'; encoder: Blob; decoder: Blob; manifest?: Blob; encoderInt8?: Blob }
  /** The official PyTorch checkpoint (file or URL) with the app's templates (`templateIndexUrl`: models/templates.json). */
  | { kind: 'checkpoint'; checkpoint: CheckpointInput; templateIndexUrl: string };

export type SourceProgress = ModelLoadProgress | CheckpointLoadProgress;

/** A model's graphs, with what the UI shows about them. */
export interface ModelGraphs {
  encoder: GraphInput;
  decoder: GraphInput;
  /** The optional int8 encoder (experimental), read only when chosen. */
  encoderInt8?: GraphInput;
  name: string;
  /** The file name or URL, for messages. */
  source: string;
  /** Whether model.json held SHA-256 digests and both graphs matched them. */
  verified: boolean;
  /** What the user should know about where the model came from, if anything. */
  note?: string;
}

export async function loadModelGraphs(source: ModelSource, onProgress?: (progress: SourceProgress) => void): Promise<ModelGraphs> {
  if (source.kind === 'checkpoint') {
    const model = await loadCheckpointModel(source.checkpoint, { templateIndexUrl: source.templateIndexUrl, onProgress });
    const note = model.fromCache
      ? `${model.name}: converted weights of ${model.source} read from the model cache.`
      : model.cacheError
        ? `${model.name}: converted from ${model.source}, but it could not be cached (${model.cacheError}).`
        : `${model.name}: converted from ${model.source} and cached for the next visit.`;
    return { encoder: model.encoder, decoder: model.decoder, name: model.name, source: model.source, verified: false, note };
  }
  const model = source.kind === 'url' ? await loadModelFromUrl(source.url, { onProgress }) : await loadModelFromFiles(source, onProgress);
  const manifest = model.manifest;
  const name = manifest?.name ?? (manifest?.graph ? `SAM-Med3D (${manifest.graph})` : 'SAM-Med3D');
  const encoder = readOnceThenAgain(model.encoder, model.reread.encoder);
  const decoder = readOnceThenAgain(model.decoder, model.reread.decoder);
  return { encoder, decoder, encoderInt8: model.encoderInt8, name, source: model.source, verified: model.verified };
}

/**
 * A graph's bytes for its first session, then read again from where they are kept for a later one
 * (backend switch, device loss): the worker does not hold the weights in JS beside the session's
 * copy (about 370 MB for ViT-B). Without a place to read them again, the bytes are kept.
 */
function readOnceThenAgain(bytes: Uint8Array, reread: (() => Promise<Uint8Array | null>) | undefined): GraphInput {
  if (!reread) return bytes;
  let first: Uint8Array | null = bytes;
  return async () => {
    const graph = first ?? (await reread());
    first = null;
    if (!graph) throw new Error('The model file can no longer be read: load the model again.');
    return graph;
  };
}
