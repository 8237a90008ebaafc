/**
 * A safe reader for the pickles torch.save writes (protocol 2; later protocols' extra opcodes
 * where cheap). Pickle is a program for a stack machine; this interprets it as data only:
 * - only the opcodes a checkpoint needs are known, any other stops the reader;
 * - globals are looked up in a fixed allow-list. Only the state-dict ones (ordered dict, tensor
 *   rebuild, storage types) have a meaning here; a few plain-data classes that training scripts
 *   store next to the weights (argparse.Namespace, numpy scalars) become inert placeholders that
 *   are never called; every other global (os.system, builtins.eval, ...) is refused by name.
 * - nothing is ever executed, copied recursively or walked recursively, and the stack, mark
 *   depth and memo are bounded, so a bomb cannot hang or exhaust memory.
 */
import { CheckpointError } from './errors';

export type StorageDType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const BYTES_PER_ELEMENT: Record<StorageDType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

const STORAGE_TYPES: Record<string, StorageDType> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** Plain-data classes seen in training checkpoints: kept as inert placeholders, never called. */
const INERT_GLOBALS = new Set([
  'argparse.Namespace',
  'numpy.dtype',
  'numpy.ndarray',
  'numpy.core.multiarray.scalar',
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray.scalar',
  'numpy._core.multiarray._reconstruct',
  '_codecs.encode',
  'torch.device',
  'torch.Size',
]);

/** A storage referenced by persistent id: the zip entry `data/<key>` holds its bytes. */
export interface StorageRef {
  readonly kind: 'storage';
  readonly key: string;
  readonly dtype: StorageDType;
  /** Number of elements, as declared by the pickle (checked against the entry's size later). */
  readonly numel: number;
}

/** A tensor view on a storage, as torch._utils._rebuild_tensor_v2 describes it. */
export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly storageOffset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

type GlobalRole = 'ordered-dict' | 'rebuild-tensor' | 'rebuild-parameter' | 'storage-type' | 'inert';

export interface PickleGlobal {
  readonly kind: 'global';
  readonly name: string;
  readonly role: GlobalRole;
}

/** The result of calling an inert global: its content is dropped on purpose. */
export interface InertObject {
  readonly kind: 'inert';
  readonly type: string;
}

export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

export type DictKey = string | number | bigint | boolean | null;

export class PickleDict {
  readonly entries = new Map<DictKey, PickleValue>();
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | PickleGlobal
  | InertObject
  | StorageRef
  | TensorRef;

export interface PickleLimits {
  maxStack: number;
  maxMarkDepth: number;
  maxMemo: number;
  maxDims: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = { maxStack: 100_000, maxMarkDepth: 1_000, maxMemo: 1_000_000, maxDims: 16 };

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

/** Parses a checkpoint pickle into inert values. Throws CheckpointError on anything unexpected. */
export function parsePickle(bytes: Uint8Array, limits: PickleLimits = DEFAULT_PICKLE_LIMITS): PickleValue {
  return new Unpickler(bytes, limits).run();
}

class Unpickler {
  private at = 0;
  private stack: StackItem[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly storages = new Map<string, StorageRef>();
  private readonly data: DataView;
  private readonly text = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: PickleLimits,
  ) {
    this.data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PickleValue {
    // Every opcode consumes at least one byte, so this loop ends after at most bytes.length steps.
    while (this.at < this.bytes.byteLength) {
      const offset = this.at;
      const opcode = this.u8();
      if (opcode === 0x2e /* . STOP */) {
        if (this.stack.length !== 1 || this.marks.length !== 0) throw this.fail(offset, 'STOP with a malformed stack');
        return this.value(this.stack[0]);
      }
      this.step(opcode, offset);
      if (this.stack.length > this.limits.maxStack) throw this.fail(offset, `stack deeper than ${this.limits.maxStack} items`);
    }
    throw new CheckpointError('truncated pickle: no STOP opcode');
  }

  private step(opcode: number, offset: number): void {
    switch (opcode) {
      case 0x80: // PROTO
        if (this.u8() > 5) throw this.fail(offset, 'unknown pickle protocol');
        return;
      case 0x95: // FRAME: a length hint only
        this.take(8);
        return;
      case 0x28: // ( MARK
        if (this.marks.length >= this.limits.maxMarkDepth)
          throw this.fail(offset, `nesting deeper than ${this.limits.maxMarkDepth} levels`);
        this.marks.push(this.stack.length);
        this.stack.push(MARK);
        return;
      case 0x7d: // } EMPTY_DICT
        this.stack.push(new PickleDict());
        return;
      case 0x5d: // ] EMPTY_LIST
        this.stack.push([]);
        return;
      case 0x29: // ) EMPTY_TUPLE
        this.stack.push(new PickleTuple([]));
        return;
      case 0x4e: // N NONE
        this.stack.push(null);
        return;
      case 0x88: // NEWTRUE
        this.stack.push(true);
        return;
      case 0x89: // NEWFALSE
        this.stack.push(false);
        return;
      case 0x4b: // K BININT1
        this.stack.push(this.u8());
        return;
      case 0x4d: // M BININT2
        this.take(2);
        this.stack.push(this.data.getUint16(this.at - 2, true));
        return;
      case 0x4a: // J BININT
        this.take(4);
        this.stack.push(this.data.getInt32(this.at - 4, true));
        return;
      case 0x8a: // LONG1
        this.stack.push(this.long(this.u8()));
        return;
      case 0x47: // G BINFLOAT (big-endian)
        this.take(8);
        this.stack.push(this.data.getFloat64(this.at - 8, false));
        return;
      case 0x58: // X BINUNICODE
        this.stack.push(this.string(this.u32()));
        return;
      case 0x8c: // SHORT_BINUNICODE
        this.stack.push(this.string(this.u8()));
        return;
      case 0x43: // C SHORT_BINBYTES
        this.stack.push(this.take(this.u8()));
        return;
      case 0x42: // B BINBYTES
        this.stack.push(this.take(this.u32()));
        return;
      case 0x74: // t TUPLE
        this.stack.push(new PickleTuple(this.popMark(offset)));
        return;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: // TUPLE3
        this.stack.push(new PickleTuple(this.popValues(opcode - 0x84, offset)));
        return;
      case 0x61: {
        // a APPEND
        const [list, item] = this.popValues(2, offset);
        this.list(list, offset).push(item);
        this.stack.push(list);
        return;
      }
      case 0x65: {
        // e APPENDS
        const items = this.popMark(offset);
        const [list] = this.popValues(1, offset);
        const target = this.list(list, offset);
        for (const item of items) target.push(item);
        this.stack.push(list);
        return;
      }
      case 0x73: {
        // s SETITEM
        const [dict, key, value] = this.popValues(3, offset);
        this.setItem(dict, key, value, offset);
        this.stack.push(dict);
        return;
      }
      case 0x75: {
        // u SETITEMS
        const items = this.popMark(offset);
        if (items.length % 2 !== 0) throw this.fail(offset, 'SETITEMS with an odd number of items');
        const [dict] = this.popValues(1, offset);
        for (let i = 0; i < items.length; i += 2) this.setItem(dict, items[i], items[i + 1], offset);
        this.stack.push(dict);
        return;
      }
      case 0x30: // 0 POP
        this.popValues(1, offset);
        return;
      case 0x31: // 1 POP_MARK
        this.popMark(offset);
        return;
      case 0x71: // q BINPUT
        this.put(this.u8(), offset);
        return;
      case 0x72: // r LONG_BINPUT
        this.put(this.u32(), offset);
        return;
      case 0x94: // MEMOIZE
        this.put(this.memo.size, offset);
        return;
      case 0x68: // h BINGET
        this.stack.push(this.get(this.u8(), offset));
        return;
      case 0x6a: // j LONG_BINGET
        this.stack.push(this.get(this.u32(), offset));
        return;
      case 0x63: {
        // c GLOBAL "module\nname\n"
        const module = this.line(offset);
        const name = this.line(offset);
        this.stack.push(resolveGlobal(module, name));
        return;
      }
      case 0x93: {
        // STACK_GLOBAL
        const [module, name] = this.popValues(2, offset);
        if (typeof module !== 'string' || typeof name !== 'string') throw this.fail(offset, 'STACK_GLOBAL needs two strings');
        this.stack.push(resolveGlobal(module, name));
        return;
      }
      case 0x52: {
        // R REDUCE
        const [callable, args] = this.popValues(2, offset);
        this.stack.push(this.call(callable, args, offset));
        return;
      }
      case 0x81: {
        // NEWOBJ: only inert classes are ever instantiated this way in checkpoints
        const [cls, args] = this.popValues(2, offset);
        if (!isGlobal(cls) || cls.role !== 'inert') throw this.fail(offset, 'NEWOBJ on a class that is not plain data');
        this.stack.push(this.call(cls, args, offset));
        return;
      }
      case 0x62: {
        // b BUILD: object state (OrderedDict metadata, Namespace fields) is not needed; drop it
        const [target] = this.popValues(2, offset);
        if (!(target instanceof PickleDict) && !isInert(target)) throw this.fail(offset, 'BUILD on an unsupported object');
        this.stack.push(target);
        return;
      }
      case 0x51: {
        // Q BINPERSID
        const [pid] = this.popValues(1, offset);
        this.stack.push(this.storage(pid, offset));
        return;
      }
      default:
        throw this.fail(offset, `unsupported pickle opcode 0x${opcode.toString(16).padStart(2, '0')}`);
    }
  }

  private call(callable: PickleValue, args: PickleValue, offset: number): PickleValue {
    if (!isGlobal(callable)) throw this.fail(offset, 'REDUCE on something that is not an allowed global');
    if (!(args instanceof PickleTuple)) throw this.fail(offset, `${callable.name} called without an argument tuple`);
    switch (callable.role) {
      case 'ordered-dict':
        if (args.items.length !== 0) throw this.fail(offset, 'OrderedDict built from arguments is not supported');
        return new PickleDict();
      case 'rebuild-tensor':
        return this.tensor(args.items, offset);
      case 'rebuild-parameter': {
        const [tensor] = args.items;
        if (!isTensor(tensor)) throw this.fail(offset, '_rebuild_parameter without a tensor');
        return tensor;
      }
      case 'inert':
        return { kind: 'inert', type: callable.name };
      case 'storage-type':
        throw this.fail(offset, `${callable.name} cannot be called`);
    }
  }

  /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
  private tensor(args: readonly PickleValue[], offset: number): TensorRef {
    const [storage, storageOffset, size, stride] = args;
    if (!isStorage(storage)) throw this.fail(offset, 'tensor rebuilt without a storage');
    const shape = this.intTuple(size, offset);
    const strides = this.intTuple(stride, offset);
    if (shape.length !== strides.length || typeof storageOffset !== 'number' || !Number.isSafeInteger(storageOffset) || storageOffset < 0) {
      throw this.fail(offset, 'tensor with an inconsistent offset, size or stride');
    }
    // The furthest element the view touches must lie inside the declared storage.
    let last = storageOffset;
    let empty = false;
    shape.forEach((extent, axis) => {
      if (extent === 0) empty = true;
      else last += (extent - 1) * strides[axis];
    });
    if (!empty && last >= storage.numel) {
      throw this.fail(offset, `tensor view reaches element ${last} of a storage of ${storage.numel} elements`);
    }
    return { kind: 'tensor', storage, storageOffset, shape, stride: strides };
  }

  /** Persistent id ('storage', StorageType, key, location, numel) from torch.save. */
  private storage(pid: PickleValue, offset: number): StorageRef {
    const items = pid instanceof PickleTuple ? pid.items : [];
    const [tag, type, key, , numel] = items;
    if (items.length !== 5 || tag !== 'storage' || !isGlobal(type) || type.role !== 'storage-type' || typeof key !== 'string') {
      throw this.fail(offset, 'unsupported persistent id (only torch storages are allowed)');
    }
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0 || !/^[A-Za-z0-9_.-]{1,64}$/.test(key)) {
      throw this.fail(offset, `storage ${key} has an invalid key or size`);
    }
    const dtype = STORAGE_TYPES[type.name.slice('torch.'.length)];
    const known = this.storages.get(key);
    if (known) {
      if (known.dtype !== dtype || known.numel !== numel) throw this.fail(offset, `storage ${key} declared twice with different types`);
      return known;
    }
    const ref: StorageRef = { kind: 'storage', key, dtype, numel };
    this.storages.set(key, ref);
    return ref;
  }

  private intTuple(value: PickleValue | undefined, offset: number): number[] {
    if (!(value instanceof PickleTuple) || value.items.length > this.limits.maxDims)
      throw this.fail(offset, 'tensor size or stride is not a short tuple');
    return value.items.map((item) => {
      if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0)
        throw this.fail(offset, 'tensor size or stride is not a non-negative integer');
      return item;
    });
  }

  private setItem(dict: PickleValue, key: PickleValue, value: PickleValue, offset: number): void {
    if (!(dict instanceof PickleDict)) throw this.fail(offset, 'SETITEM on something that is not a dict');
    if (key !== null && typeof key === 'object') throw this.fail(offset, 'dict key of an unsupported type');
    dict.entries.set(key, value);
  }

  private list(value: PickleValue, offset: number): PickleValue[] {
    if (!Array.isArray(value)) throw this.fail(offset, 'APPEND on something that is not a list');
    return value;
  }

  private put(index: number, offset: number): void {
    if (this.stack.length === 0) throw this.fail(offset, 'memo store from an empty stack');
    if (!this.memo.has(index) && this.memo.size >= this.limits.maxMemo)
      throw this.fail(offset, `more than ${this.limits.maxMemo} memo entries`);
    this.memo.set(index, this.value(this.stack[this.stack.length - 1], offset));
  }

  private get(index: number, offset: number): PickleValue {
    const value = this.memo.get(index);
    if (value === undefined) throw this.fail(offset, `memo entry ${index} read before it was written`);
    return value;
  }

  /** Pops everything above the topmost MARK, and the mark. */
  private popMark(offset: number): PickleValue[] {
    const start = this.marks.pop();
    if (start === undefined) throw this.fail(offset, 'opcode needs a MARK that is not there');
    const items = this.stack.slice(start + 1) as PickleValue[];
    this.stack.length = start;
    return items;
  }

  /** Pops `count` values (not marks), returned in stack order. */
  private popValues(count: number, offset: number): PickleValue[] {
    const start = this.stack.length - count;
    if (start < (this.marks.at(-1) ?? -1) + 1) throw this.fail(offset, 'stack underflow');
    const items = this.stack.slice(start).map((item) => this.value(item, offset));
    this.stack.length = start;
    return items;
  }

  private value(item: StackItem | undefined, offset = this.at): PickleValue {
    if (item === MARK || item === undefined) throw this.fail(offset, 'misplaced MARK');
    return item;
  }

  /** LONG1's little-endian two's complement integer (at most 255 bytes). */
  private long(length: number): number | bigint {
    const bytes = this.take(length);
    let value = 0n;
    for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
    if (length > 0 && bytes[length - 1] & 0x80) value -= 1n << BigInt(8 * length);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  private string(length: number): string {
    const offset = this.at;
    try {
      return this.text.decode(this.take(length));
    } catch (error) {
      if (error instanceof CheckpointError) throw error;
      throw this.fail(offset, 'string is not valid UTF-8');
    }
  }

  /** A newline-terminated ASCII line (GLOBAL's operands), at most 256 bytes. */
  private line(offset: number): string {
    const end = this.bytes.subarray(this.at, this.at + 257).indexOf(0x0a);
    if (end < 0) throw this.fail(offset, 'GLOBAL name missing or too long');
    const text = String.fromCharCode(...this.take(end + 1).subarray(0, end));
    return text;
  }

  private u8(): number {
    return this.take(1)[0];
  }

  private u32(): number {
    this.take(4);
    return this.data.getUint32(this.at - 4, true);
  }

  private take(length: number): Uint8Array {
    if (this.at + length > this.bytes.byteLength)
      throw new CheckpointError(`truncated pickle: ${length} bytes needed at offset ${this.at}`);
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }

  private fail(offset: number, message: string): CheckpointError {
    return new CheckpointError(`refusing checkpoint pickle at byte ${offset}: ${message}`);
  }
}

function resolveGlobal(module: string, name: string): PickleGlobal {
  const fullName = `${module}.${name}`;
  if (fullName === 'collections.OrderedDict') return { kind: 'global', name: fullName, role: 'ordered-dict' };
  if (fullName === 'torch._utils._rebuild_tensor_v2') return { kind: 'global', name: fullName, role: 'rebuild-tensor' };
  if (fullName === 'torch._utils._rebuild_parameter') return { kind: 'global', name: fullName, role: 'rebuild-parameter' };
  if (module === 'torch' && name in STORAGE_TYPES) return { kind: 'global', name: fullName, role: 'storage-type' };
  if (INERT_GLOBALS.has(fullName)) return { kind: 'global', name: fullName, role: 'inert' };
  throw new CheckpointError(
    `refusing checkpoint: it references the Python global ${JSON.stringify(fullName)}, which a weights file does not need (only tensors, storages and ordered dicts are accepted)`,
  );
}

function isGlobal(value: PickleValue | undefined): value is PickleGlobal {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'global';
}

function isInert(value: PickleValue | undefined): value is InertObject {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'inert';
}

function isStorage(value: PickleValue | undefined): value is StorageRef {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'storage';
}

export function isTensor(value: PickleValue | undefined): value is TensorRef {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'tensor';
}
