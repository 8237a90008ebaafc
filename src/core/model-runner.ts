/**
 * The one interface between the engine and an inference backend (onnxruntime-node in the CLI,
 * onnxruntime-web in the browser worker). Tensors are flat C-order Float32Arrays with the
 * shapes of the ONNX contract (see models/export.py).
 */
/** The encoder's token grid side: embeddings are [1, width, 8, 8, 8]. */
export const EMBEDDING_GRID = 8;
const GRID_VOXELS = EMBEDDING_GRID ** 3;
export const LOW_RES_SIZE = 32;
export const LOW_RES_VOXELS = LOW_RES_SIZE ** 3;

/**
 * The ONNX shape of flat embeddings. Their width is the model's prompt width (384 for the turbo
 * model, 96 for the in-repo test fixture), so it is read from the length rather than assumed.
 */
export function embeddingShape(length: number): [number, number, number, number, number] {
  if (length === 0 || length % GRID_VOXELS !== 0) throw new Error(`embeddings of ${length} values are not [1, C, 8, 8, 8]`);
  return [1, length / GRID_VOXELS, EMBEDDING_GRID, EMBEDDING_GRID, EMBEDDING_GRID];
}

export interface DecodeInput {
  /** Encoder output, [1, C, 8, 8, 8] (C = 384 for turbo). */
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
  /** Normalized 128^3 patch (C-order) -> embeddings [1, C, 8, 8, 8]. */
  encode(image: Float32Array): Promise<Float32Array>;
  decode(input: DecodeInput): Promise<DecodeOutput>;
  dispose(): Promise<void>;
}
