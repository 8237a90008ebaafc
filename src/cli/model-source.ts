/**
 * Where the CLI's model comes from: an exported model directory (encoder.onnx, decoder.onnx,
 * optional model.json), or the official PyTorch checkpoint with weight-free graph templates
 * (by default the shipped sam_med3d_turbo ones), both run by onnxruntime-node.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { ModelRunner } from '../core/model-runner';
import { createOrtRunner } from '../core/engine/ort-runner';
import { openCheckpointModel } from './checkpoint-model';
import { CliError } from './errors';

export interface ModelSource {
  modelDir?: string;
  checkpoint?: string;
  /** Templates for --checkpoint; defaults to the shipped ones for the official turbo checkpoint. */
  templatesDir?: string;
}

/** The templates of sam_med3d_turbo.pth (ViT-B) that the app ships (scripts/build-templates.sh). */
export const TURBO_TEMPLATES_DIR = fileURLToPath(new URL('../../public/models/sam-med3d-turbo/templates', import.meta.url));

const CONTRACT = {
  encoder: { inputs: ['image'], outputs: ['embeddings'] },
  decoder: { inputs: ['embeddings', 'point_coords', 'point_labels', 'mask_input'], outputs: ['low_res_logits', 'iou_predictions'] },
};

async function openSession(
  file: string,
  role: keyof typeof CONTRACT,
  sessionOptions: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  await access(file).catch(() => {
    throw new CliError(`model: ${file} not found (a model directory holds encoder.onnx and decoder.onnx)`);
  });
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(await readFile(file), sessionOptions);
  } catch (error) {
    throw new CliError(`model: ${file} is not a loadable ONNX model (${error instanceof Error ? error.message : String(error)})`);
  }
  const { inputs, outputs } = CONTRACT[role];
  const missing = [
    ...inputs.filter((name) => !session.inputNames.includes(name)).map((name) => `input "${name}"`),
    ...outputs.filter((name) => !session.outputNames.includes(name)).map((name) => `output "${name}"`),
  ];
  if (missing.length > 0) {
    await session.release();
    throw new CliError(`model: ${file} is not a SAM-Med3D ${role}: it lacks ${missing.join(', ')}`);
  }
  return session;
}

/** Opens the model a command line asked for. */
export async function openModel(source: ModelSource, sessionOptions: ort.InferenceSession.SessionOptions = {}): Promise<ModelRunner> {
  if (source.checkpoint && source.modelDir) throw new CliError('give either --model DIR or --checkpoint FILE, not both');
  if (source.checkpoint) return openCheckpointModel(source.checkpoint, source.templatesDir ?? TURBO_TEMPLATES_DIR, sessionOptions);
  if (source.templatesDir) throw new CliError('--templates only applies to --checkpoint');
  if (!source.modelDir) throw new CliError('--model DIR or --checkpoint FILE is required');
  const dir = path.resolve(source.modelDir);
  const encoder = await openSession(path.join(dir, 'encoder.onnx'), 'encoder', sessionOptions);
  const decoder = await openSession(path.join(dir, 'decoder.onnx'), 'decoder', sessionOptions).catch(async (error: unknown) => {
    await encoder.release();
    throw error;
  });
  return createOrtRunner(ort.Tensor, encoder, decoder);
}
