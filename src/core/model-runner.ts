/**
 * The one interface between the engine and an inference backend (onnxruntime-node in the CLI,
 * onnxruntime-web in the browser worker). Tensors are flat C-order Float32Arrays with the
 * shapes of the ONNX contract (see models/export.py).
 */
export const EMBEDDING_SHAPE = [1, 384, 8, 8, 8] as const;
export const EMBEDDING_LENGTH = 384 * 8 * 8 * 8;
export const LOW_RES_SIZE = 32;
export const LOW_RES_VOXELS = LOW_RES_SIZE ** 3;

export interface DecodeInput {
  /** Encoder output, [1, 384, 8, 8, 8]. */
  embeddings: Float32Array;
  /** Points as (x, y, z) = tensor axes 2, 3, 4 voxel indices in the 128^3 patch, [N * 3]. */
  points: Float32Array;
  /** 1 positive, 0 negative, [N]. */
  labels: Float32Array;
  /** Previous low-resolution logits (zeros before the first click), [32^3]. */
  maskInput: Float32Array;
}

export interface DecodeOutput {
  /** Low-resolution mask logits, [32^3] C-order. */
  logits: Float32Array;
  /** Predicted IoU of the mask. */
  iou: number;
}

export interface ModelRunner {
  /** Normalized 128^3 patch (C-order) -> embeddings [1, 384, 8, 8, 8]. */
  encode(image: Float32Array): Promise<Float32Array>;
  decode(input: DecodeInput): Promise<DecodeOutput>;
  dispose(): Promise<void>;
}
