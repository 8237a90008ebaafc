/**
 * Minimal NIfTI-1 and NRRD encoders written from the format specifications, independent of
 * itk-wasm, so tests can check that itk-wasm + our conversion read back the geometry we meant.
 * They also produce deliberately odd files (4D, RGB, zero spacing) for the bad-input tests.
 */
import { gzipSync } from 'fflate';
import type { ImageGeometry, VoxelArray } from '../../src/core/types';

const NIFTI_DATATYPE: Record<string, number> = {
  Uint8Array: 2,
  Int16Array: 4,
  Int32Array: 8,
  Float32Array: 16,
  Float64Array: 64,
  Int8Array: 256,
  Uint16Array: 512,
  Uint32Array: 768,
};
const NIFTI_RGB24 = 128;

export interface NiftiEncodeOptions {
  /** Extra dimensions after the three spatial ones (e.g. [5] for a 4D time series). */
  extraDims?: number[];
  /** Store 3 uint8 components per voxel (NIfTI RGB24); `data` must then hold 3 values per voxel. */
  rgb?: boolean;
  gzip?: boolean;
}

/**
 * NIfTI-1 single file with the geometry in the sform (qform unset). NIfTI world is RAS, so the
 * LPS geometry's x and y rows are negated.
 */
export function encodeNifti(geometry: ImageGeometry, data: VoxelArray, options: NiftiEncodeOptions = {}): Uint8Array {
  const extraDims = options.extraDims ?? [];
  const header = new ArrayBuffer(352);
  const view = new DataView(header);
  view.setInt32(0, 348, true);
  const dims = [...geometry.size, ...extraDims];
  view.setInt16(40, dims.length, true);
  dims.forEach((n, d) => view.setInt16(42 + 2 * d, n, true));
  for (let d = dims.length; d < 7; d++) view.setInt16(42 + 2 * d, 1, true);
  const datatype = options.rgb ? NIFTI_RGB24 : NIFTI_DATATYPE[data.constructor.name];
  view.setInt16(70, datatype, true);
  view.setInt16(72, options.rgb ? 24 : data.BYTES_PER_ELEMENT * 8, true);
  view.setFloat32(76, 1, true); // qfac
  geometry.spacing.forEach((s, d) => view.setFloat32(80 + 4 * d, s, true));
  extraDims.forEach((_, d) => view.setFloat32(92 + 4 * d, 1, true));
  view.setFloat32(108, 352, true); // vox_offset
  view.setUint8(123, 2 | 8); // mm, seconds
  view.setInt16(252, 0, true); // qform_code
  view.setInt16(254, 1, true); // sform_code: scanner anatomical
  const { direction: d, spacing: s, origin: o } = geometry;
  for (let r = 0; r < 3; r++) {
    const toRas = r < 2 ? -1 : 1;
    for (let c = 0; c < 3; c++) view.setFloat32(280 + 16 * r + 4 * c, toRas * d[3 * c + r] * s[c], true);
    view.setFloat32(280 + 16 * r + 12, toRas * o[r], true);
  }
  new Uint8Array(header).set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const file = new Uint8Array(352 + body.length);
  file.set(new Uint8Array(header), 0);
  file.set(body, 352);
  return options.gzip ? gzipSync(file) : file;
}

const NRRD_TYPE: Record<string, string> = {
  Int8Array: 'int8',
  Uint8Array: 'uint8',
  Int16Array: 'short',
  Uint16Array: 'ushort',
  Int32Array: 'int',
  Uint32Array: 'uint',
  Float32Array: 'float',
  Float64Array: 'double',
};

/** NRRD (attached raw little-endian data) in LPS space, with the geometry in space directions. */
export function encodeNrrd(geometry: ImageGeometry, data: VoxelArray): Uint8Array {
  const { direction: d, spacing: s, origin: o } = geometry;
  const vector = (v: number[]) => `(${v.map((x) => x.toPrecision(17)).join(',')})`;
  const directions = [0, 1, 2].map((c) => vector([0, 1, 2].map((r) => d[3 * c + r] * s[c])));
  const header = [
    'NRRD0004',
    `type: ${NRRD_TYPE[data.constructor.name]}`,
    'dimension: 3',
    'space: left-posterior-superior',
    `sizes: ${geometry.size.join(' ')}`,
    `space directions: ${directions.join(' ')}`,
    'kinds: domain domain domain',
    'endian: little',
    'encoding: raw',
    `space origin: ${vector([...o])}`,
    '',
    '',
  ].join('\n');
  const head = new TextEncoder().encode(header);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const file = new Uint8Array(head.length + body.length);
  file.set(head, 0);
  file.set(body, head.length);
  return file;
}
