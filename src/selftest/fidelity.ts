/**
 * Fidelity of exported SAM-Med3D graphs against the official code's outputs on a fidelity fixture
 * (tests/support/fixtures.ts): one encoder pass, then the three clicks of the official interactive
 * loop. Shared by the Node test (onnxruntime-node) and the browser self-test page (onnxruntime-web).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-web';
import { dice } from '../core/engine/evaluation';
import { maskFromLogits } from '../core/engine/patch-inference';
import { embeddingShape, LOW_RES_SIZE } from '../core/model-runner';
import { PATCH_SIZE } from '../core/resample';

export const FIXTURE_CLICKS = 3;
/** Tolerances of the fixture README: max |error| <= 1e-4 * max |reference|, Dice >= 0.999. */
export const MAX_RELATIVE_ERROR = 1e-4;
export const MIN_DICE = 0.999;

export interface FixtureClick {
  points: Float32Array; // [1, k, 3]
  labels: Float32Array; // [1, k]
  logits: Float32Array; // [1, 1, 32, 32, 32]
  iou: Float32Array; // [1, 1]
}

export interface FidelityFixture {
  image: Float32Array; // [1, 1, 128, 128, 128]
  embeddings: Float32Array; // [1, C, 8, 8, 8]
  clicks: FixtureClick[];
  mask3: Uint8Array; // [128, 128, 128]
}

export interface FidelityReport {
  embeddings: number;
  logits: number[];
  iou: number[];
  dice: number;
}

/** The Tensor constructor of whichever onnxruntime package runs the sessions. */
export type TensorConstructor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => Tensor;

/** max |actual - reference| / max |reference|. */
export function relativeError(actual: Float32Array, reference: Float32Array): number {
  if (actual.length !== reference.length) throw new Error(`length ${actual.length} != ${reference.length}`);
  let error = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    error = Math.max(error, Math.abs(actual[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return error / scale;
}

function output(results: InferenceSession.OnnxValueMapType, name: string): Float32Array {
  const value = results[name] as Tensor | undefined;
  if (!value) throw new Error(`graph has no output ${name}`);
  return value.data as Float32Array;
}

export async function runFidelity(
  TensorClass: TensorConstructor,
  encoder: InferenceSession,
  decoder: InferenceSession,
  fixture: FidelityFixture,
): Promise<FidelityReport> {
  const encoded = await encoder.run({ image: new TensorClass('float32', fixture.image, [1, 1, PATCH_SIZE, PATCH_SIZE, PATCH_SIZE]) });
  const embeddings = output(encoded, 'embeddings');
  const report: FidelityReport = { embeddings: relativeError(embeddings, fixture.embeddings), logits: [], iou: [], dice: 0 };
  // The official loop feeds the previous click's logits as the mask prompt: feed the reference ones.
  let previous: Float32Array = new Float32Array(LOW_RES_SIZE ** 3);
  let logits: Float32Array = previous;
  for (const click of fixture.clicks) {
    const n = click.labels.length;
    const decoded = await decoder.run({
      embeddings: new TensorClass('float32', fixture.embeddings, embeddingShape(fixture.embeddings.length)),
      point_coords: new TensorClass('float32', click.points, [1, n, 3]),
      point_labels: new TensorClass('float32', click.labels, [1, n]),
      mask_input: new TensorClass('float32', previous, [1, 1, LOW_RES_SIZE, LOW_RES_SIZE, LOW_RES_SIZE]),
    });
    logits = output(decoded, 'low_res_logits');
    report.logits.push(relativeError(logits, click.logits));
    report.iou.push(relativeError(output(decoded, 'iou_predictions'), click.iou));
    previous = click.logits;
  }
  report.dice = dice(maskFromLogits(logits), fixture.mask3);
  return report;
}
