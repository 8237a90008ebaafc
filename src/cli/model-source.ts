/**
 * Where the CLI's model comes from: an exported model directory (encoder.onnx, decoder.onnx,
 * optional model.json) run by onnxruntime-node. A PyTorch checkpoint (--checkpoint) is the
 * other source (issue 6) and plugs in here.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelRunner } from '../core/model-runner';
import { createOrtRunner } from '../core/engine/ort-runner';
import { CliError } from './errors';

export interface ModelSource {
  modelDir?: string;
  checkpoint?: string;
}

const CONTRACT = {
  encoder: { inputs: ['image'], outputs: ['embeddings'] },
  decoder: { inputs: ['embeddings', 'point_coords', 'point_labels', 'mask_input'], outputs: ['low_res_logits', 'iou_predictions'] },
};

async function openSession(file: string, role: keyof typeof CONTRACT, sessionOptions: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
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
  if (source.checkpoint) {
    throw new CliError('--checkpoint is not supported yet: export it with `npm run export-model` and pass --model DIR');
  }
  if (!source.modelDir) throw new CliError('--model DIR is required (a folder with encoder.onnx and decoder.onnx)');
  const dir = path.resolve(source.modelDir);
  const encoder = await openSession(path.join(dir, 'encoder.onnx'), 'encoder', sessionOptions);
  const decoder = await openSession(path.join(dir, 'decoder.onnx'), 'decoder', sessionOptions).catch(async (error: unknown) => {
    await encoder.release();
    throw error;
  });
  return createOrtRunner(ort.Tensor, encoder, decoder);
}
