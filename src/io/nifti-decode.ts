/**
 * NIfTI-1 voxel decoder for the common case (single file, little-endian, one of our voxel types,
 * no intensity scaling), plain or gzip-compressed, in two steps: the header (for itk-wasm to
 * read the geometry and our validation to accept the image), then the voxels. A plain file's
 * voxels are read as one buffer that becomes the volume's (no copy); a compressed file is
 * inflated piece by piece straight into the voxel buffer. Runs in a worker and in Node.
 */
import { Gunzip } from 'fflate';
import type { ImageGeometry, Mat3, Vec3, VoxelArray } from '../core/types';
import { shareVoxels, sharedZeros } from '../core/shared-voxels';
import { LoadError, type VoxelTypeName } from '../core/validate';
import { gunzipPrefix, NIFTI_HEAD_BYTES } from './nifti-truncation';

/** Where the voxels are, what they are and where they lie, from the header. */
export interface NiftiVoxelLayout {
  /** Byte offset of the first voxel (the header and its extensions come before). */
  voxelOffset: number;
  voxelCount: number;
  type: VoxelTypeName;
  /** In LPS, as ITK reads it. */
  geometry: ImageGeometry;
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

const ARRAYS: Record<VoxelTypeName, new (buffer: ArrayBufferLike) => VoxelArray> = {
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
  // Other dimensions are left to ITK (and our validation, which refuses most of them).
  if (view.getInt16(40, true) !== 3) return null;
  const size = [1, 2, 3].map((d) => view.getInt16(40 + 2 * d, true)) as Vec3;
  if (size.some((n) => n < 1)) return null;
  const voxelOffset = Math.max(352, Math.floor(view.getFloat32(108, true)));
  if (!Number.isFinite(voxelOffset)) return null;
  const geometry = niftiGeometry(view);
  if (!geometry) return null;
  return { voxelOffset, voxelCount: size[0] * size[1] * size[2], type, geometry: { ...geometry, size } };
}

type Placement = Omit<ImageGeometry, 'size'>;

/** Columns of a 3x3 matrix given by rows `rows[r][c]`, RAS to LPS (x and y negated), column-major. */
function lpsColumns(rows: number[][]): Mat3 {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) for (let r = 0; r < 3; r++) out.push(r < 2 ? -rows[r][c] : rows[r][c]);
  return out as Mat3;
}

/** The qform's placement (NIfTI-1 method 2: quaternion, qfac and pixdim), as nifti_quatern_to_mat44. */
function qformPlacement(view: DataView, spacing: Vec3): Placement {
  const f = (offset: number) => view.getFloat32(offset, true);
  let [b, c, d] = [f(256), f(260), f(264)];
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    a = 1 / Math.sqrt(b * b + c * c + d * d);
    [b, c, d] = [a * b, a * c, a * d];
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const qfac = f(76) < 0 ? -1 : 1;
  const rows = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), qfac * 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, qfac * 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), qfac * (a * a + d * d - c * c - b * b)],
  ];
  return { spacing, origin: [-f(268), -f(272), f(276)], direction: lpsColumns(rows) };
}

/** The sform's placement (method 3), or null when its columns are not pixdim long and orthogonal. */
function sformPlacement(view: DataView, spacing: Vec3): Placement | null {
  const rows = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => view.getFloat32(280 + 16 * r + 4 * c, true)));
  const columns = [0, 1, 2].map((c) => rows.map((row) => row[c]));
  const units = columns.map((column, c) => {
    const length = Math.hypot(...column);
    return Math.abs(length - spacing[c]) <= 1e-4 * spacing[c] ? column.map((v) => v / length) : null;
  });
  if (units.some((u) => !u)) return null;
  const dot = (p: number, q: number) => units[p]!.reduce((sum, v, r) => sum + v * units[q]![r], 0);
  if (Math.abs(dot(0, 1)) > 1e-4 || Math.abs(dot(0, 2)) > 1e-4 || Math.abs(dot(1, 2)) > 1e-4) return null;
  const unitRows = [0, 1, 2].map((r) => units.map((u) => u![r]));
  return { spacing, origin: [-rows[0][3], -rows[1][3], rows[2][3]], direction: lpsColumns(unitRows) };
}

function samePlacement(p: Placement, q: Placement): boolean {
  const close = (x: ArrayLike<number>, y: ArrayLike<number>, tolerance: number) =>
    Array.from(x).every((v, n) => Math.abs(v - y[n]) <= tolerance);
  return close(p.direction, q.direction, 1e-6) && close(p.origin, q.origin, 1e-4);
}

/**
 * Where the voxels lie, in LPS millimetres: the qform or the sform, whichever the header sets.
 * Null for the cases ITK resolves by rules of its own, left to it: neither set, both set but
 * different, a skewed or rescaled sform, spatial units other than millimetres, or a spacing that
 * is not positive.
 */
function niftiGeometry(view: DataView): Placement | null {
  const units = view.getUint8(123) & 7;
  if (units !== 0 && units !== 2) return null;
  const spacing = [80, 84, 88].map((offset) => view.getFloat32(offset, true)) as Vec3;
  if (!spacing.every((s) => s > 0 && Number.isFinite(s))) return null;
  const qform = view.getInt16(252, true) > 0 ? qformPlacement(view, spacing) : null;
  const sform = view.getInt16(254, true) > 0 ? sformPlacement(view, spacing) : null;
  if (view.getInt16(254, true) > 0 && !sform) return null;
  if (qform && sform) return samePlacement(qform, sform) ? sform : null;
  return qform ?? sform;
}

/** Reads bytes [start, end) of the file (fewer at its end) into a buffer of their own. */
export type RangeReader = (start: number, end: number) => Promise<ArrayBuffer>;

export interface NiftiSource {
  name: string;
  size: number;
  gzipped: boolean;
  read: RangeReader;
}

/** Header and extensions larger than this are left to itk-wasm. */
const MAX_HEADER_BYTES = 1 << 20;

const TRUNCATED = 'the file is truncated (it ends before its last voxel)';
const CORRUPT_GZIP = 'the compressed file is corrupt (its data cannot be inflated)';

/**
 * The bytes before the voxels (header and extensions) and the voxel layout, null when this
 * decoder does not handle the file (read it with itk-wasm). Reads only the start of the file.
 */
export async function readNiftiHeader(source: NiftiSource): Promise<{ header: Uint8Array; layout: NiftiVoxelLayout | null }> {
  if (source.gzipped) {
    // Extensions longer than what the first compressed bytes inflate to are left to itk-wasm.
    const inflated = gunzipPrefix(new Uint8Array(await source.read(0, NIFTI_HEAD_BYTES)), MAX_HEADER_BYTES);
    const layout = niftiVoxelLayout(inflated);
    if (!layout || inflated.length < layout.voxelOffset) return { header: inflated.slice(0, 352), layout: null };
    return { header: inflated.slice(0, layout.voxelOffset), layout };
  }
  const head = new Uint8Array(await source.read(0, NIFTI1_HEADER_BYTES));
  const layout = niftiVoxelLayout(head);
  if (!layout) return { header: head, layout };
  const header = new Uint8Array(await source.read(0, layout.voxelOffset));
  if (header.length < layout.voxelOffset) throw new LoadError(source.name, TRUNCATED);
  return { header, layout };
}

/** Compressed bytes inflated per step: progress moves every few milliseconds. */
const INFLATE_STEP = 1 << 20;

/**
 * The voxels laid out by `layout` (from readNiftiHeader), in shared memory where the platform has
 * it (sharedArray: the page and the inference worker then hold them once, and the copy is made
 * here, off the main thread). `onInflated` follows the inflation of a compressed file. Throws a LoadError naming the file when it ends early or its data is corrupt.
 */
export async function readNiftiVoxels(
  source: NiftiSource,
  layout: NiftiVoxelLayout,
  onInflated?: (fraction: number) => void,
): Promise<VoxelArray> {
  const byteLength = layout.voxelCount * BYTES_PER_VOXEL[layout.type];
  if (!source.gzipped) {
    const buffer = await source.read(layout.voxelOffset, layout.voxelOffset + byteLength);
    if (buffer.byteLength < byteLength) throw new LoadError(source.name, TRUNCATED);
    return shareVoxels(new ARRAYS[layout.type](buffer));
  }
  const compressed = new Uint8Array(await source.read(0, source.size));
  const bytes = sharedZeros(byteLength);
  // Inflated bytes before the voxels still to skip, then where the next voxel byte goes.
  let skip = layout.voxelOffset;
  let written = 0;
  const gunzip = new Gunzip((chunk) => {
    const start = Math.min(skip, chunk.length);
    skip -= start;
    const part = chunk.subarray(start, start + byteLength - written);
    bytes.set(part, written);
    written += part.length;
  });
  try {
    for (let offset = 0; offset < compressed.length && written < byteLength; offset += INFLATE_STEP) {
      gunzip.push(compressed.subarray(offset, offset + INFLATE_STEP), false);
      onInflated?.(Math.min(1, (offset + INFLATE_STEP) / compressed.length));
    }
    // Flushes what the inflater still holds.
    if (written < byteLength) gunzip.push(new Uint8Array(0), true);
  } catch (error) {
    throw new LoadError(source.name, CORRUPT_GZIP, { cause: error });
  }
  if (written < byteLength) throw new LoadError(source.name, TRUNCATED);
  return new ARRAYS[layout.type](bytes.buffer);
}
