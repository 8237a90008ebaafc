/**
 * `--checkpoint FILE.pth`: a ModelRunner built from the official PyTorch checkpoint and the
 * exporter's weight-free graph templates (models/TEMPLATES.md), with no Python and no exported
 * model directory. The file is read in ranges; only the model weights are loaded.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { createOrtRunner } from '../core/engine/ort-runner';
import type { ModelRunner } from '../core/model-runner';
import { Checkpoint } from '../core/pth/checkpoint';
import { CheckpointError } from '../core/pth/errors';
import { createTemplateSessions, parseTemplateManifest } from '../core/pth/template-weights';
import { CliError } from './errors';
import { openFileSource } from './file-byte-source';

/**
 * Opens `checkpointPath` with the templates in `templatesDir` (manifest.json, encoder.onnx,
 * decoder.onnx). `onProgress` hears which graph is being built and how far.
 */
export async function openCheckpointModel(
  checkpointPath: string,
  templatesDir: string,
  sessionOptions: ort.InferenceSession.SessionOptions = {},
  onProgress?: (graph: string, done: number, total: number) => void,
): Promise<ModelRunner> {
  const manifestPath = path.join(templatesDir, 'manifest.json');
  const manifest = parseTemplateManifest(
    JSON.parse(
      await readFile(manifestPath, 'utf8').catch(() => {
        throw new CliError(`--checkpoint needs the model templates: ${manifestPath} not found (npm run export-model writes them)`);
      }),
    ),
  );
  const source = await openFileSource(checkpointPath).catch((error: unknown) => {
    throw new CliError(`cannot open checkpoint ${checkpointPath}: ${error instanceof Error ? error.message : String(error)}`);
  });
  try {
    const checkpoint = await Checkpoint.open(source, { stateDictKey: manifest.checkpoint.stateDictKey });
    const sessions = await createTemplateSessions(
      manifest,
      checkpoint,
      async (graph, data) =>
        ort.InferenceSession.create(await readFile(path.join(templatesDir, graph.model)), {
          ...sessionOptions,
          externalData: [{ path: graph.weightsFile, data }],
        }),
      onProgress,
    );
    const encoder = sessions.get('encoder');
    const decoder = sessions.get('decoder');
    if (!encoder || !decoder) throw new CliError(`${manifestPath} must describe an encoder and a decoder graph`);
    return createOrtRunner(ort.Tensor, encoder, decoder);
  } catch (error) {
    if (error instanceof CheckpointError) throw new CliError(`checkpoint ${checkpointPath}: ${error.message}`);
    throw error;
  } finally {
    await source.close();
  }
}
