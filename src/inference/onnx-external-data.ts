/**
 * Turns an ONNX model with its weights inside into the same graph with its weights as external
 * data, without copying them: the large initializers' `raw_data` become references (offset,
 * length) into the original bytes, which serve as the external data file.
 *
 * Why: onnxruntime-web copies a model's bytes into its WASM heap and then copies each initializer
 * out of them, so the heap peaks at twice the weights and never shrinks (WASM memory only grows).
 * External data it uses in place: the ViT-B encoder's heap after one run went from ~966 to ~683 MB
 * (Node, onnxruntime-web 1.30, same outputs).
 *
 * Only the protobuf wire format is touched (ModelProto.graph = 7, GraphProto.initializer = 5,
 * TensorProto raw_data = 9, external_data = 13, data_location = 14); every other field is copied
 * as it is.
 */

import { concatBytes } from '../core/bytes';

/** The external data file name the rewritten model refers to. */
export const EMBEDDED_WEIGHTS_PATH = 'embedded-weights.bin';

/** Initializers smaller than this stay inside the model (biases, norms, shapes). */
const MIN_EXTERNAL_BYTES = 1024;

const WIRE_VARINT = 0;
const WIRE_64BIT = 1;
const WIRE_LEN = 2;
const WIRE_32BIT = 5;

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;

interface Field {
  number: number;
  wire: number;
  /** The whole field (tag and value) within the buffer. */
  start: number;
  end: number;
  /** The value of a length-delimited field. */
  valueStart: number;
}

export interface ExternalizedModel {
  model: Uint8Array;
  weights: { path: string; data: Uint8Array };
}

/** The model with its large initializers as external data in `bytes` itself; null when it has none. */
export function externalizeWeights(bytes: Uint8Array): ExternalizedModel | null {
  let moved = 0;
  const model = rewriteFields(bytes, 0, bytes.length, (field) => {
    if (field.number !== MODEL_GRAPH || field.wire !== WIRE_LEN) return null;
    const graph = rewriteFields(bytes, field.valueStart, field.end, (item) => {
      if (item.number !== GRAPH_INITIALIZER || item.wire !== WIRE_LEN) return null;
      const tensor = externalTensor(bytes, item);
      if (tensor) moved++;
      return tensor && lengthDelimited(GRAPH_INITIALIZER, tensor);
    });
    return lengthDelimited(MODEL_GRAPH, graph);
  });
  return moved === 0 ? null : { model, weights: { path: EMBEDDED_WEIGHTS_PATH, data: bytes } };
}

/** A TensorProto whose raw_data is replaced by a reference into `bytes`, or null to keep it. */
function externalTensor(bytes: Uint8Array, tensor: Field): Uint8Array | null {
  const raw = fields(bytes, tensor.valueStart, tensor.end).find((f) => f.number === TENSOR_RAW_DATA && f.wire === WIRE_LEN);
  if (!raw || raw.end - raw.valueStart < MIN_EXTERNAL_BYTES) return null;
  const reference = [
    ['location', EMBEDDED_WEIGHTS_PATH],
    ['offset', String(raw.valueStart)],
    ['length', String(raw.end - raw.valueStart)],
  ].map(([key, value]) => lengthDelimited(TENSOR_EXTERNAL_DATA, concatBytes([stringField(1, key), stringField(2, value)])));
  const kept = rewriteFields(bytes, tensor.valueStart, tensor.end, (f) => (f.number === TENSOR_RAW_DATA ? new Uint8Array(0) : null));
  return concatBytes([kept, ...reference, varintField(TENSOR_DATA_LOCATION, DATA_LOCATION_EXTERNAL)]);
}

/** The fields of a message in bytes [start, end), each copied or replaced by what `replace` returns. */
function rewriteFields(bytes: Uint8Array, start: number, end: number, replace: (field: Field) => Uint8Array | null): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const field of fields(bytes, start, end)) parts.push(replace(field) ?? bytes.subarray(field.start, field.end));
  return concatBytes(parts);
}

function fields(bytes: Uint8Array, start: number, end: number): Field[] {
  const result: Field[] = [];
  let at = start;
  while (at < end) {
    const fieldStart = at;
    const [tag, afterTag] = readVarint(bytes, at);
    const wire = tag % 8;
    const number = Math.floor(tag / 8);
    let valueStart = afterTag;
    if (wire === WIRE_VARINT) at = readVarint(bytes, afterTag)[1];
    else if (wire === WIRE_64BIT) at = afterTag + 8;
    else if (wire === WIRE_32BIT) at = afterTag + 4;
    else if (wire === WIRE_LEN) {
      const [length, afterLength] = readVarint(bytes, afterTag);
      valueStart = afterLength;
      at = afterLength + length;
    } else throw new Error(`Not an ONNX model: protobuf wire type ${wire} at byte ${fieldStart}.`);
    if (at > end) throw new Error(`Not an ONNX model: a field runs past its message at byte ${fieldStart}.`);
    result.push({ number, wire, start: fieldStart, end: at, valueStart });
  }
  return result;
}

/** A varint's value (below 2^53) and the offset after it. */
function readVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let n = 0; n < 10; n++) {
    if (at >= bytes.length) break;
    const byte = bytes[at++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 128;
  }
  throw new Error(`Not an ONNX model: a broken varint before byte ${at}.`);
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

function lengthDelimited(number: number, value: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.from([...varint(number * 8 + WIRE_LEN), ...varint(value.length)]), value]);
}

function stringField(number: number, value: string): Uint8Array {
  return lengthDelimited(number, new TextEncoder().encode(value));
}

function varintField(number: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(number * 8 + WIRE_VARINT), ...varint(value)]);
}
