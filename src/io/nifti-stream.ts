/**
 * Streaming NIfTI-1 voxel decoder for the common case (single file, little-endian, one of our
 * voxel types, no intensity scaling), plain or gzip-compressed: the voxels are written straight
 * into their final buffer as the bytes arrive, with no whole-file copy. Geometry and validation
 * stay with itk-wasm (see nifti-fast.ts): this only lays the bytes out. Runs in a worker and in Node.
 */
import { Gunzip } from 'fflate';
import type { VoxelArray } from '../core/types';
import { LoadError, type VoxelTypeName } from '../core/validate';

/** Where the voxels are and what they are, from the header. */
export interface NiftiVoxelLayout {
  /** Byte offset of the first voxel (the header and its extensions come before). */
  voxelOffset: number;
  voxelCount: number;
  type: VoxelTypeName;
}

const NIFTI1_HEADER_BYTES = 348;

/** NIfTI-1 datatype codes of the voxel types we keep as they are. */
const DATATYPES: Record<number, VoxelTypeName> = {
  2: 'uint8',
  4: 'int16',
  8: 'int32',
  16: 'float32',
  64: 'float64',
  256: 'int8',
  512: 'uint16',
  768: 'uint32',
};

const ARRAYS: Record<VoxelTypeName, new (buffer: ArrayBuffer) => VoxelArray> = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};

const BYTES_PER_VOXEL: Record<VoxelTypeName, number> = {
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  float64: 8,
};

/**
 * The voxel layout of an uncompressed NIfTI-1 header (its first 348 bytes at least), or null when
 * this decoder does not handle the file: big-endian, NIfTI-2, a header/image pair, another voxel
 * type, or intensity scaling (ITK then converts the voxels to float).
 */
export function niftiVoxelLayout(header: Uint8Array): NiftiVoxelLayout | null {
  if (header.length < NIFTI1_HEADER_BYTES) return null;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getInt32(0, true) !== NIFTI1_HEADER_BYTES) return null;
  if (String.fromCharCode(header[344], header[345], header[346], header[347]) !== 'n+1\0') return null;
  const type = DATATYPES[view.getInt16(70, true)];
  if (!type) return null;
  // ITK's rule (NiftiImageIO::MustRescale): a zero slope means "no scaling".
  const slope = view.getFloat32(112, true);
  const intercept = view.getFloat32(116, true);
  const epsilon = Number.EPSILON;
  if (Math.abs(slope) > epsilon && (Math.abs(slope - 1) > epsilon || Math.abs(intercept) > epsilon)) return null;
  const dimensions = view.getInt16(40, true);
  if (dimensions < 1 || dimensions > 7) return null;
  let voxelCount = 1;
  for (let d = 1; d <= dimensions; d++) {
    const n = view.getInt16(40 + 2 * d, true);
    if (n < 1) return null;
    voxelCount *= n;
  }
  const voxelOffset = Math.max(352, Math.floor(view.getFloat32(108, true)));
  if (!Number.isFinite(voxelOffset)) return null;
  return { voxelOffset, voxelCount, type };
}

export interface NiftiStreamOptions {
  gzipped: boolean;
  /** Voxel buffers larger than this are not allocated (validation then refuses the image). */
  maxVoxels: number;
  /** Called once with the bytes before the voxels (header and extensions) and the layout. */
  onHeader?: (header: Uint8Array, layout: NiftiVoxelLayout | null, decoding: boolean) => void;
  /** Called with the number of (compressed) file bytes consumed so far. */
  onBytesRead?: (bytes: number) => void;
}

export interface NiftiStreamResult {
  header: Uint8Array;
  layout: NiftiVoxelLayout | null;
  /** Absent when the layout is null or over the voxel budget: read the file another way. */
  voxels?: VoxelArray;
}

const TRUNCATED = 'the file is truncated (it ends before its last voxel)';

/** Collects the header, then writes every following byte into the voxel buffer. */
class VoxelSink {
  private headerParts: Uint8Array[] = [];
  private headerLength = 0;
  header: Uint8Array | null = null;
  layout: NiftiVoxelLayout | null = null;
  voxels: VoxelArray | undefined;
  private bytes: Uint8Array | null = null;
  private written = 0;
  /** True once nothing more is wanted (the voxels are complete, or this decoder cannot read the file). */
  done = false;

  constructor(private readonly fileName: string, private readonly options: NiftiStreamOptions) {}

  push(chunk: Uint8Array): void {
    if (this.done || chunk.length === 0) return;
    if (!this.header) {
      this.headerParts.push(chunk);
      this.headerLength += chunk.length;
      this.startVoxelsIfHeaderComplete();
      return;
    }
    this.writeVoxelBytes(chunk);
  }

  private startVoxelsIfHeaderComplete(): void {
    if (this.headerLength < NIFTI1_HEADER_BYTES) return;
    const head = concat(this.headerParts, this.headerLength);
    this.headerParts = [head];
    const layout = niftiVoxelLayout(head);
    const headerEnd = layout ? layout.voxelOffset : Math.min(head.length, 352);
    if (head.length < headerEnd) return;
    this.header = head.slice(0, headerEnd);
    this.headerParts = [];
    this.layout = layout;
    const decoding = layout !== null && layout.voxelCount <= this.options.maxVoxels;
    this.options.onHeader?.(this.header, layout, decoding);
    if (!decoding) {
      this.done = true;
      return;
    }
    const buffer = new ArrayBuffer(layout!.voxelCount * BYTES_PER_VOXEL[layout!.type]);
    this.voxels = new ARRAYS[layout!.type](buffer);
    this.bytes = new Uint8Array(buffer);
    this.writeVoxelBytes(head.subarray(headerEnd));
  }

  private writeVoxelBytes(chunk: Uint8Array): void {
    const bytes = this.bytes!;
    const part = chunk.subarray(0, bytes.length - this.written);
    bytes.set(part, this.written);
    this.written += part.length;
    if (this.written === bytes.length) this.done = true;
  }

  /** The result once the input ended; throws a LoadError when it ended too early. */
  finish(): NiftiStreamResult {
    if (!this.header) throw new LoadError(this.fileName, TRUNCATED);
    if (this.voxels && !this.done) throw new LoadError(this.fileName, TRUNCATED);
    return { header: this.header, layout: this.layout, voxels: this.voxels };
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Decodes a NIfTI-1 file from its bytes as they are read (`chunks`). Stops reading as soon as the
 * voxels are complete or the header shows this decoder cannot read the file. Throws a LoadError
 * naming the file when it ends early or its compressed data is corrupt.
 */
export async function decodeNiftiStream(
  fileName: string,
  chunks: AsyncIterable<Uint8Array>,
  options: NiftiStreamOptions,
): Promise<NiftiStreamResult> {
  const sink = new VoxelSink(fileName, options);
  const gunzip = options.gzipped ? new Gunzip((data) => sink.push(data)) : null;
  const feed = (chunk: Uint8Array, final: boolean) => {
    try {
      if (gunzip) gunzip.push(chunk, final);
      else sink.push(chunk);
    } catch (error) {
      throw new LoadError(fileName, 'the compressed file is corrupt (its data cannot be inflated)', { cause: error });
    }
  };
  let consumed = 0;
  for await (const chunk of chunks) {
    feed(chunk, false);
    consumed += chunk.length;
    options.onBytesRead?.(consumed);
    if (sink.done) break;
  }
  // Flushes what the inflater still holds.
  if (!sink.done) feed(new Uint8Array(0), true);
  return sink.finish();
}
