/**
 * Rebuilds the external-data weight files of the exporter's weight-free ONNX templates
 * (format: models/TEMPLATES.md) from a checkpoint's tensors, so sessions can be built from the
 * official .pth with no Python. Each tensor is read, transformed and written straight into
 * its graph's weights buffer, or its place in a stored file, one at a time: the peak is one
 * weights buffer plus one tensor, or one tensor when the caller streams to storage.
 */
import type { Checkpoint, Float32Tensor } from './checkpoint';
import { CheckpointError } from './errors';
import { elementCount, gatherStrided, rowMajorStrides } from './strided';

export type TemplateTransform =
  { op: 'transpose'; perm: number[] } | { op: 'reshape'; shape: number[] } | { op: 'slice'; axis: number; start: number; end: number };

export interface TemplateInitializer {
  /** ONNX initializer name. */
  name: string;
  /** Checkpoint tensor name. */
  source: string;
  transforms: TemplateTransform[];
  /** Shape after the transforms. */
  shape: number[];
  dtype: 'float32';
  /** Byte offset and length in the weights file. */
  offset: number;
  length: number;
}

export interface TemplateGraph {
  /** Template file name, relative to the manifest. */
  model: string;
  /** External-data location every initializer of the template uses. */
  weightsFile: string;
  weightsBytes: number;
  initializers: TemplateInitializer[];
}

export interface TemplateManifest {
  format: 'sam-med3d-onnx-template';
  version: 1;
  graph: string;
  config: unknown;
  checkpoint: { stateDictKey: string; tensors: Record<string, number[]> };
  graphs: Record<string, TemplateGraph>;
}

/** Throws unless `value` looks like a version-1 template manifest. */
export function parseTemplateManifest(value: unknown): TemplateManifest {
  const manifest = value as Partial<TemplateManifest> | null;
  if (manifest?.format !== 'sam-med3d-onnx-template' || manifest.version !== 1 || !manifest.graphs || !manifest.checkpoint?.tensors) {
    throw new Error('not a version 1 SAM-Med3D template manifest');
  }
  return manifest as TemplateManifest;
}

/** Throws with the differences unless the checkpoint holds exactly the tensors the templates expect. */
export function checkTemplateFits(manifest: TemplateManifest, checkpoint: Checkpoint): void {
  const expected = manifest.checkpoint.tensors;
  const problems: string[] = [];
  for (const [name, shape] of Object.entries(expected)) {
    const tensor = checkpoint.tensors.get(name);
    if (!tensor) problems.push(`missing ${name}`);
    else if (!sameShape(tensor.shape, shape)) problems.push(`${name} is [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  for (const name of checkpoint.tensors.keys()) if (!(name in expected)) problems.push(`unexpected ${name}`);
  if (problems.length > 0) {
    throw new CheckpointError(
      `this checkpoint does not match the model templates (another SAM-Med3D configuration?): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` and ${problems.length - 5} more` : ''}`,
    );
  }
}

/**
 * Builds one graph's weights file in memory. `onTensor` is told each initializer as it is written
 * (progress reporting).
 */
export async function buildWeightsFile(
  graph: TemplateGraph,
  checkpoint: Checkpoint,
  onTensor?: (done: number, total: number) => void,
): Promise<Uint8Array> {
  const file = new Uint8Array(graph.weightsBytes);
  await writeWeights(graph, checkpoint, (offset, bytes) => file.set(bytes, offset), onTensor);
  return file;
}

/**
 * Produces one graph's weights file piece by piece: `write` receives each initializer's bytes and
 * their offset in the file, so a caller that writes them to storage never holds the whole file.
 */
export async function writeWeights(
  graph: TemplateGraph,
  checkpoint: Checkpoint,
  write: (offset: number, bytes: Uint8Array) => void | Promise<void>,
  onTensor?: (done: number, total: number) => void,
): Promise<void> {
  const bySource = new Map<string, TemplateInitializer[]>();
  for (const initializer of graph.initializers) {
    const { offset, length, shape, name } = initializer;
    if (initializer.dtype !== 'float32' || offset % 4 !== 0 || offset + length > graph.weightsBytes || length !== 4 * elementCount(shape)) {
      throw new Error(`template initializer ${name} has an invalid place in ${graph.weightsFile}`);
    }
    bySource.set(initializer.source, [...(bySource.get(initializer.source) ?? []), initializer]);
  }
  let done = 0;
  await checkpoint.readTensors(bySource.keys(), async (source, tensor) => {
    for (const { name, transforms, shape, offset } of bySource.get(source)!) {
      const result = applyTransforms(tensor, transforms);
      if (!sameShape(result.shape, shape)) {
        throw new Error(`template initializer ${name}: transforms give [${result.shape.join(', ')}], expected [${shape.join(', ')}]`);
      }
      await write(offset, new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength));
      onTensor?.(++done, graph.initializers.length);
    }
  });
}

export function applyTransforms(tensor: Float32Tensor, transforms: readonly TemplateTransform[]): Float32Tensor {
  return transforms.reduce(applyTransform, tensor);
}

function applyTransform(tensor: Float32Tensor, transform: TemplateTransform): Float32Tensor {
  switch (transform.op) {
    case 'reshape':
      if (elementCount(transform.shape) !== tensor.data.length)
        throw new Error(`cannot reshape [${tensor.shape.join(', ')}] to [${transform.shape.join(', ')}]`);
      return { shape: [...transform.shape], data: tensor.data };
    case 'transpose': {
      const { perm } = transform;
      if (perm.length !== tensor.shape.length || [...perm].sort((a, b) => a - b).some((axis, i) => axis !== i)) {
        throw new Error(`invalid transpose [${perm.join(', ')}] of a ${tensor.shape.length}-d tensor`);
      }
      const inputStrides = rowMajorStrides(tensor.shape);
      const shape = perm.map((axis) => tensor.shape[axis]);
      return {
        shape,
        data: gatherStrided(
          tensor.data,
          shape,
          perm.map((axis) => inputStrides[axis]),
          0,
        ),
      };
    }
    case 'slice': {
      const { axis, start, end } = transform;
      if (!(axis >= 0 && axis < tensor.shape.length && start >= 0 && start <= end && end <= tensor.shape[axis])) {
        throw new Error(`invalid slice ${start}:${end} of axis ${axis} of [${tensor.shape.join(', ')}]`);
      }
      const strides = rowMajorStrides(tensor.shape);
      const shape = tensor.shape.map((extent, i) => (i === axis ? end - start : extent));
      return { shape, data: gatherStrided(tensor.data, shape, strides, start * strides[axis]) };
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((extent, i) => extent === b[i]);
}

/**
 * Creates one session per template graph from a checkpoint. Graphs are built one after the
 * other and each weights buffer is dropped once its session holds the weights, so the peak
 * stays near twice the largest graph's weights. `createSession` receives the graph and its
 * rebuilt external data (onnxruntime: `externalData: [{ path: graph.weightsFile, data }]`).
 */
export async function createTemplateSessions<Session>(
  manifest: TemplateManifest,
  checkpoint: Checkpoint,
  createSession: (graph: TemplateGraph, weights: Uint8Array) => Promise<Session>,
  onProgress?: (graphName: string, done: number, total: number) => void,
): Promise<Map<string, Session>> {
  checkTemplateFits(manifest, checkpoint);
  const sessions = new Map<string, Session>();
  for (const [name, graph] of Object.entries(manifest.graphs)) {
    const weights = await buildWeightsFile(graph, checkpoint, (done, total) => onProgress?.(name, done, total));
    sessions.set(name, await createSession(graph, weights));
  }
  return sessions;
}
