/**
 * ModelRunner over onnxruntime sessions. onnxruntime-node and onnxruntime-web share this API
 * (onnxruntime-common), so the caller passes its package's Tensor class and sessions.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { embeddingShape, LOW_RES_SIZE, type DecodeInput, type DecodeOutput, type ModelRunner } from '../model-runner';
import { PATCH_SIZE } from '../resample';

type TensorClass = new (type: 'float32', data: Float32Array, dims: readonly number[]) => Tensor;

export function createOrtRunner(TensorType: TensorClass, encoder: InferenceSession, decoder: InferenceSession): ModelRunner {
  const output = (results: InferenceSession.OnnxValueMapType, name: string): Float32Array => {
    const value = results[name];
    if (!value || !(value.data instanceof Float32Array)) throw new Error(`the model did not return a float32 "${name}"`);
    return value.data;
  };
  return {
    async encode(image: Float32Array): Promise<Float32Array> {
      const results = await encoder.run({ image: new TensorType('float32', image, [1, 1, PATCH_SIZE, PATCH_SIZE, PATCH_SIZE]) });
      return output(results, 'embeddings');
    },
    async decode({ embeddings, points, labels, maskInput }: DecodeInput): Promise<DecodeOutput> {
      const count = labels.length;
      const results = await decoder.run({
        embeddings: new TensorType('float32', embeddings, embeddingShape(embeddings.length)),
        point_coords: new TensorType('float32', points, [1, count, 3]),
        point_labels: new TensorType('float32', labels, [1, count]),
        mask_input: new TensorType('float32', maskInput, [1, 1, LOW_RES_SIZE, LOW_RES_SIZE, LOW_RES_SIZE]),
      });
      return { logits: output(results, 'low_res_logits'), iou: output(results, 'iou_predictions')[0] };
    },
    async dispose(): Promise<void> {
      await Promise.all([encoder.release(), decoder.release()]);
    },
  };
}
