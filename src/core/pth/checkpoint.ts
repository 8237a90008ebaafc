/**
 * Reads the tensors of a PyTorch checkpoint (torch.save's zip format) without Python:
 * the zip directory and the pickle are parsed first, then only the storages of the wanted
 * state dict (by default `model_state_dict`) are read. Whatever else the file holds
 * (optimizer state, training metadata) is never loaded, and with an HTTP source never
 * downloaded.
 */
import type { ByteSource } from './byte-source';
import { CheckpointError } from './errors';
import { BYTES_PER_ELEMENT, PickleDict, isTensor, parsePickle, type PickleValue, type StorageDType, type TensorRef } from './pickle';
import { elementCount, gatherStrided } from './strided';
import { ZipArchive, type ZipEntry } from './zip';

/** A dense row-major float32 tensor. */
export interface Float32Tensor {
  shape: number[];
  data: Float32Array;
}

export interface CheckpointOptions {
  /** Key of the state dict inside the saved dict. */
  stateDictKey?: string;
}

/** data.pkl of a state dict is tens of kB; this bound keeps a hostile one from being loaded at all. */
const MAX_PICKLE_BYTES = 16 << 20;
/** How many times over the tensors may cover their storages (tied weights share one). */
const MAX_ALIASING = 4;

export class Checkpoint {
  private constructor(
    private readonly archive: ZipArchive,
    private readonly prefix: string,
    /** The state dict's tensors, in the state dict's order. */
    readonly tensors: ReadonlyMap<string, TensorRef>,
  ) {}

  static async open(source: ByteSource, options: CheckpointOptions = {}): Promise<Checkpoint> {
    const stateDictKey = options.stateDictKey ?? 'model_state_dict';
    const archive = await ZipArchive.open(source);
    const pickleEntry = [...archive.entries.values()].find((entry) => /^[^/]+\/data\.pkl$/.test(entry.name));
    if (!pickleEntry) throw new CheckpointError('not a PyTorch checkpoint: the zip archive has no <name>/data.pkl');
    const prefix = pickleEntry.name.slice(0, -'data.pkl'.length);
    const byteorder = archive.entry(`${prefix}byteorder`);
    if (byteorder) {
      const order = new TextDecoder().decode(await archive.read(byteorder)).trim();
      if (order !== 'little') throw new CheckpointError(`unsupported checkpoint byte order "${order}" (only little-endian)`);
    }
    if (pickleEntry.size > MAX_PICKLE_BYTES) {
      throw new CheckpointError(
        `refusing checkpoint: its pickle is ${pickleEntry.size} bytes, more than the ${MAX_PICKLE_BYTES} a state dict needs`,
      );
    }
    const top = parsePickle(await archive.read(pickleEntry));
    return new Checkpoint(archive, prefix, stateDictTensors(top, stateDictKey));
  }

  /** Content key of the checkpoint file (see ZipArchive.fingerprint), known after reading only its directory. */
  get fingerprint(): string {
    return this.archive.fingerprint;
  }

  /** Reads one tensor as dense float32 (float16/bfloat16/float64/integers are converted). */
  async readTensor(name: string): Promise<Float32Tensor> {
    let result: Float32Tensor | undefined;
    await this.readTensors([name], (_, tensor) => {
      result = tensor;
    });
    return result!;
  }

  /**
   * Reads every tensor of the state dict, in the state dict's order. `onProgress` receives the
   * bytes of storage read so far and the total to read.
   */
  async loadStateDict(onProgress?: (done: number, total: number) => void): Promise<Map<string, Float32Tensor>> {
    const read = new Map<string, Float32Tensor>();
    await this.readTensors(
      this.tensors.keys(),
      (name, tensor) => {
        read.set(name, tensor);
      },
      onProgress,
    );
    return new Map([...this.tensors.keys()].map((name) => [name, read.get(name)!]));
  }

  /**
   * Reads the named tensors storage by storage, in file order, so that neighbouring storages
   * share one read; a storage used by several tensors is read once. `visit` gets each tensor as
   * dense float32: a float32 tensor is a view into the bytes read, others are converted copies.
   */
  async readTensors(
    names: Iterable<string>,
    visit: (name: string, tensor: Float32Tensor) => void | Promise<void>,
    onProgress?: (done: number, total: number) => void,
  ): Promise<void> {
    const users = new Map<ZipEntry, string[]>();
    for (const name of names) {
      const tensor = this.tensors.get(name);
      if (!tensor) throw new CheckpointError(`the checkpoint has no tensor ${name}`);
      const entry = this.storageEntry(tensor);
      users.set(entry, [...(users.get(entry) ?? []), name]);
    }
    const total = [...users.keys()].reduce((sum, entry) => sum + entry.size, 0);
    let done = 0;
    await this.archive.readEach([...users.keys()], async (entry, bytes) => {
      for (const name of users.get(entry)!) await visit(name, materialize(this.tensors.get(name)!, bytes));
      done += entry.size;
      onProgress?.(done, total);
    });
  }

  /** The zip entry holding a tensor's storage, checked against the size the pickle declares. */
  private storageEntry(tensor: TensorRef): ZipEntry {
    const { key } = tensor.storage;
    const entry = this.archive.entry(`${this.prefix}data/${key}`);
    if (!entry) throw new CheckpointError(`corrupt checkpoint: storage ${key} has no data/${key} entry`);
    const expected = storageBytes(tensor);
    if (entry.size !== expected) {
      throw new CheckpointError(`corrupt checkpoint: storage ${key} declares ${expected} bytes but its entry holds ${entry.size}`);
    }
    return entry;
  }
}

function storageBytes(tensor: TensorRef): number {
  return tensor.storage.numel * BYTES_PER_ELEMENT[tensor.storage.dtype];
}

function stateDictTensors(top: PickleValue, stateDictKey: string): Map<string, TensorRef> {
  if (!(top instanceof PickleDict)) throw new CheckpointError('not a checkpoint dict: the pickle does not hold a dict');
  const stateDict = top.entries.get(stateDictKey);
  if (!(stateDict instanceof PickleDict)) {
    const keys = [...top.entries.keys()].map(String).slice(0, 20).join(', ');
    throw new CheckpointError(`the checkpoint has no state dict under "${stateDictKey}" (top-level keys: ${keys})`);
  }
  const tensors = new Map<string, TensorRef>();
  // Views that repeat storage elements (stride 0, many names for one storage) could expand a
  // small file into huge dense copies: a tensor may not outgrow its storage, and all of them
  // together may not exceed their storages by more than tied weights explain.
  const storageElements = new Map<string, number>();
  let tensorElements = 0;
  for (const [name, value] of stateDict.entries) {
    if (typeof name !== 'string' || !isTensor(value)) throw new CheckpointError(`state dict entry ${String(name)} is not a tensor`);
    const count = elementCount(value.shape);
    if (count > value.storage.numel) {
      throw new CheckpointError(`refusing tensor ${name}: its ${count} elements repeat a storage of ${value.storage.numel}`);
    }
    tensorElements += count;
    storageElements.set(value.storage.key, value.storage.numel);
    tensors.set(name, value);
  }
  const distinctElements = [...storageElements.values()].reduce((sum, numel) => sum + numel, 0);
  if (tensorElements > MAX_ALIASING * distinctElements) {
    throw new CheckpointError(
      `refusing state dict: its tensors hold ${tensorElements} elements but their storages only ${distinctElements}`,
    );
  }
  return tensors;
}

/** Copies a (possibly strided) view of a storage into a dense row-major float32 tensor. */
function materialize(tensor: TensorRef, bytes: Uint8Array): Float32Tensor {
  const shape = [...tensor.shape];
  const count = elementCount(shape);
  const elements = decodeStorage(bytes, tensor.storage.dtype);
  if (isContiguous(tensor)) {
    const start = tensor.storageOffset;
    return { shape, data: elements.subarray(start, start + count) };
  }
  return { shape, data: gatherStrided(elements, shape, tensor.stride, tensor.storageOffset) };
}

function isContiguous(tensor: TensorRef): boolean {
  let expected = 1;
  for (let axis = tensor.shape.length - 1; axis >= 0; axis--) {
    if (tensor.shape[axis] !== 1 && tensor.stride[axis] !== expected) return false;
    expected *= tensor.shape[axis];
  }
  return true;
}

/**
 * The storage's elements as float32 (little-endian host assumed, as every browser is).
 * float32 storages are viewed without a copy when aligned.
 */
function decodeStorage(bytes: Uint8Array, dtype: StorageDType): Float32Array {
  const count = bytes.byteLength / BYTES_PER_ELEMENT[dtype];
  const aligned = (width: number): ArrayBuffer => {
    if (bytes.byteOffset % width === 0) return bytes.buffer as ArrayBuffer;
    return bytes.slice().buffer;
  };
  const offset = (width: number): number => (bytes.byteOffset % width === 0 ? bytes.byteOffset : 0);
  switch (dtype) {
    case 'float32':
      return new Float32Array(aligned(4), offset(4), count);
    case 'float16':
      return Float32Array.from(new Uint16Array(aligned(2), offset(2), count), halfToFloat);
    case 'bfloat16': {
      const wide = new Uint32Array(count);
      const half = new Uint16Array(aligned(2), offset(2), count);
      for (let i = 0; i < count; i++) wide[i] = half[i] << 16;
      return new Float32Array(wide.buffer);
    }
    case 'float64':
      return Float32Array.from(new Float64Array(aligned(8), offset(8), count));
    case 'int64':
      return Float32Array.from(new BigInt64Array(aligned(8), offset(8), count), Number);
    case 'int32':
      return Float32Array.from(new Int32Array(aligned(4), offset(4), count));
    case 'int16':
      return Float32Array.from(new Int16Array(aligned(2), offset(2), count));
    case 'int8':
      return Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, count));
    case 'uint8':
    case 'bool':
      return Float32Array.from(bytes);
  }
}

/** IEEE 754 half to single precision, subnormals and infinities included. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
