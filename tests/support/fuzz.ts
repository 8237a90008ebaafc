/**
 * A seeded mutation fuzzer for the image loaders: valid seeds (NIfTI, NIfTI-gz, NRRD, gzip NRRD,
 * MetaImage, DICOM) written by our own encoders, mutated by bit flips, truncations, header fields
 * set to zero / negative / huge / NaN, overflowing dimensions and gzip bombs. Case n of seed s is
 * the same on every machine (its own PRNG stream), so any failure replays alone.
 */
import { gzipSync } from 'fflate';
import { makeDemoPhantom, seededRandom } from '../../src/core/phantom';
import { concatBytes } from '../../src/core/bytes';
import { encodeDicomSeries, encodeEnhancedDicom } from './dicom-writer';
import { encodeNifti, encodeNrrd } from './raw-writers';
import { metaImage } from './test-files';

export interface FuzzCase {
  index: number;
  /** File name (its extension picks the reader, as in the app). */
  name: string;
  /** What was done to the seed, for the report. */
  mutation: string;
  bytes: Uint8Array;
}

interface Seed {
  name: string;
  bytes: Uint8Array;
  kind: 'nifti' | 'nifti-gz' | 'nrrd' | 'nrrd-gz' | 'mha' | 'dicom';
}

const phantom = makeDemoPhantom({ size: [24, 20, 12], spacing: [1.5, 1.5, 3] }).volume;

function nrrdGzip(): Uint8Array {
  const raw = new TextDecoder('latin1').decode(encodeNrrd(phantom.geometry, phantom.data));
  const [header] = raw.split('\n\n');
  const head = new TextEncoder().encode(`${header.replace('encoding: raw', 'encoding: gzip')}\n\n`);
  const body = gzipSync(new Uint8Array(phantom.data.buffer, phantom.data.byteOffset, phantom.data.byteLength));
  return concatBytes([head, body]);
}

let seeds: Seed[] | null = null;
function allSeeds(): Seed[] {
  seeds ??= [
    { name: 'seed.nii', kind: 'nifti', bytes: encodeNifti(phantom.geometry, phantom.data) },
    { name: 'seed.nii.gz', kind: 'nifti-gz', bytes: encodeNifti(phantom.geometry, phantom.data, { gzip: true }) },
    { name: 'seed.nrrd', kind: 'nrrd', bytes: encodeNrrd(phantom.geometry, phantom.data) },
    { name: 'seed-gzip.nrrd', kind: 'nrrd-gz', bytes: nrrdGzip() },
    { name: 'seed.mha', kind: 'mha', bytes: metaImage(phantom.geometry, phantom.data) },
    { name: 'seed.dcm', kind: 'dicom', bytes: encodeEnhancedDicom(phantom.geometry, phantom.data, { uidRoot: '2.25.4242' }) },
    { name: 'slice.dcm', kind: 'dicom', bytes: encodeDicomSeries(phantom.geometry, phantom.data, { uidRoot: '2.25.4243' })[3] },
  ];
  return seeds;
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const int = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** Integer values that break readers: zero, negative, huge, overflowing. */
const HOSTILE_INTEGERS = [0, -1, -32768, 32767, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1];
const HOSTILE_FLOATS = [0, -1, -0, NaN, Infinity, -Infinity, 1e38, -1e38, 1e-38, 3.4e38];
const HOSTILE_TEXT = ['0', '-1', '-5', '99999999', '4294967297', '1e308', 'nan', 'inf', '-inf', '', 'x', '18446744073709551617'];

function flipBits(random: Random, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  const count = int(random, 1, 32);
  // Most damage worth finding is in the header: bias flips to the first 400 bytes.
  for (let n = 0; n < count; n++) {
    const at = random() < 0.7 ? int(random, 0, Math.min(out.length, 400) - 1) : int(random, 0, out.length - 1);
    out[at] ^= 1 << int(random, 0, 7);
  }
  return [out, `${count} bit flips`];
}

function truncate(random: Random, bytes: Uint8Array): [Uint8Array, string] {
  const length = random() < 0.5 ? int(random, 0, Math.min(bytes.length, 600)) : int(random, 0, bytes.length - 1);
  return [bytes.slice(0, length), `truncated to ${length} of ${bytes.length} bytes`];
}

/** NIfTI-1 header fields (offset, type) that readers trust. */
const NIFTI_FIELDS: [string, number, 'i16' | 'f32' | 'i32'][] = [
  ['sizeof_hdr', 0, 'i32'],
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((d): [string, number, 'i16'] => [`dim[${d}]`, 40 + 2 * d, 'i16']),
  ['datatype', 70, 'i16'],
  ['bitpix', 72, 'i16'],
  ...[0, 1, 2, 3, 4].map((d): [string, number, 'f32'] => [`pixdim[${d}]`, 76 + 4 * d, 'f32']),
  ['vox_offset', 108, 'f32'],
  ['scl_slope', 112, 'f32'],
  ['scl_inter', 116, 'f32'],
  ['qform_code', 252, 'i16'],
  ['sform_code', 254, 'i16'],
  ...[0, 1, 2, 3, 4, 5].map((n): [string, number, 'f32'] => [`quatern/qoffset[${n}]`, 256 + 4 * n, 'f32']),
  ...Array.from({ length: 12 }, (_, n): [string, number, 'f32'] => [`srow[${n}]`, 280 + 4 * n, 'f32']),
];

function niftiField(random: Random, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const [name, offset, type] = pick(random, NIFTI_FIELDS);
  if (type === 'f32') {
    const value = pick(random, HOSTILE_FLOATS);
    view.setFloat32(offset, value, true);
    return [out, `${name} = ${value}`];
  }
  const value = pick(random, HOSTILE_INTEGERS);
  if (type === 'i16') view.setInt16(offset, value, true);
  else view.setInt32(offset, value, true);
  return [out, `${name} = ${type === 'i16' ? (value << 16) >> 16 : value | 0}`];
}

/** Dimensions whose product overflows 32-bit (and float32 exact) arithmetic. */
function niftiOverflow(random: Random, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const dims = pick(random, [
    [32767, 32767, 32767],
    [2048, 2048, 2048],
    [65535 >> 1, 2, 32767],
    [1, 1, 32767],
    [-24, 20, 12],
  ]);
  dims.forEach((d, n) => view.setInt16(42 + 2 * n, d, true));
  return [out, `dims ${dims.join(' x ')}`];
}

const TEXT_FIELDS: Record<'nrrd' | 'mha', RegExp[]> = {
  nrrd: [
    /^(sizes: ).*$/m,
    /^(dimension: ).*$/m,
    /^(type: ).*$/m,
    /^(space directions: ).*$/m,
    /^(space origin: ).*$/m,
    /^(encoding: ).*$/m,
    /^(endian: ).*$/m,
  ],
  mha: [
    /^(DimSize = ).*$/m,
    /^(NDims = ).*$/m,
    /^(ElementSpacing = ).*$/m,
    /^(Offset = ).*$/m,
    /^(TransformMatrix = ).*$/m,
    /^(ElementType = ).*$/m,
  ],
};

/** Replaces one header field of a text-header format, keeping the data after it. */
function textField(random: Random, bytes: Uint8Array, kind: 'nrrd' | 'mha'): [Uint8Array, string] {
  const text = new TextDecoder('latin1').decode(bytes);
  const headerEnd = kind === 'nrrd' ? text.indexOf('\n\n') + 2 : text.indexOf('ElementDataFile = LOCAL\n') + 24;
  const header = text.slice(0, headerEnd);
  const field = pick(random, TEXT_FIELDS[kind]);
  const value =
    random() < 0.3
      ? pick(random, ['100000 100000 100000', '65536 65536 2', '-24 20 12', '24 20 12 5', '0 0 0'])
      : pick(random, HOSTILE_TEXT);
  const mutated = header.replace(field, `$1${value}`);
  const head = Uint8Array.from(mutated, (c) => c.charCodeAt(0) & 0xff);
  const out = new Uint8Array(head.length + bytes.length - headerEnd);
  out.set(head);
  out.set(bytes.subarray(headerEnd), head.length);
  return [
    out,
    `${field.source
      .replace(/[\\^$()]|\.\*/g, '')
      .replace(/m$/, '')
      .trim()} ${JSON.stringify(value)}`,
  ];
}

/** DICOM fields (little-endian explicit VR US values) found by their tag bytes. */
const DICOM_US_TAGS: [string, number[]][] = [
  ['Rows', [0x28, 0x00, 0x10, 0x00]],
  ['Columns', [0x28, 0x00, 0x11, 0x00]],
  ['BitsAllocated', [0x28, 0x00, 0x00, 0x01]],
  ['SamplesPerPixel', [0x28, 0x00, 0x02, 0x00]],
  ['PixelRepresentation', [0x28, 0x00, 0x03, 0x01]],
];

function findTag(bytes: Uint8Array, tag: number[]): number {
  for (let n = 132; n < bytes.length - 8; n++) {
    if (bytes[n] === tag[0] && bytes[n + 1] === tag[1] && bytes[n + 2] === tag[2] && bytes[n + 3] === tag[3]) return n;
  }
  return -1;
}

function dicomField(random: Random, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  if (random() < 0.35) {
    // A value length of an element (NumberOfFrames, pixel data...) set to a hostile number.
    const [name, tag] = pick(random, [
      ['PixelData length', [0xe0, 0x7f, 0x10, 0x00]],
      ['NumberOfFrames length', [0x28, 0x00, 0x08, 0x00]],
      ['ImagePositionPatient length', [0x20, 0x00, 0x32, 0x00]],
    ] as [string, number[]][]);
    const at = findTag(out, tag);
    if (at < 0) return [out, `${name} absent`];
    const long = name.startsWith('PixelData');
    const value = pick(random, long ? [0, 1, 0xfffffffe, 0x7fffffff, 0xffffffff] : [0, 1, 0xfffe, 0xffff]);
    if (long) view.setUint32(at + 8, value, true);
    else view.setUint16(at + 6, value, true);
    return [out, `${name} = ${value}`];
  }
  if (random() < 0.3) {
    // NumberOfFrames is text (IS): replace its digits.
    const at = findTag(out, [0x28, 0x00, 0x08, 0x00]);
    if (at >= 0) {
      const length = view.getUint16(at + 6, true);
      const value = pick(random, ['0 ', '-1', '99', '1e', 'NaN '.slice(0, length)])
        .padEnd(length, ' ')
        .slice(0, length);
      for (let n = 0; n < length; n++) out[at + 8 + n] = value.charCodeAt(n);
      return [out, `NumberOfFrames = ${JSON.stringify(value)}`];
    }
  }
  const [name, tag] = pick(random, DICOM_US_TAGS);
  const at = findTag(out, tag);
  const value = pick(random, [0, 1, 3, 7, 64, 65535, 32768]);
  if (at >= 0) view.setUint16(at + 8, value, true);
  return [out, `${name} = ${value}`];
}

let megabyteOfZeros: Uint8Array | null = null;
/** `megabytes` of zeros as that many 1 MB gzip members (about 1 KB each), read as one stream. */
function zerosGzip(megabytes: number): Uint8Array {
  megabyteOfZeros ??= gzipSync(new Uint8Array(1 << 20), { level: 9 });
  return concatBytes(Array.from({ length: megabytes }, () => megabyteOfZeros as Uint8Array));
}

/**
 * A gzip bomb: a valid small header followed by compressed data that inflates to far more than
 * the header needs, or with a header claiming all of it (far more voxels than the budget).
 */
function gzipBomb(random: Random, kind: 'nifti-gz' | 'nrrd-gz'): [Uint8Array, string] {
  const megabytes = pick(random, [64, 256]);
  const huge = random() < 0.5;
  if (kind === 'nifti-gz') {
    const header = encodeNifti(phantom.geometry, phantom.data).subarray(0, 352).slice();
    const view = new DataView(header.buffer);
    if (huge) [1024, 1024, megabytes / 2].forEach((d, n) => view.setInt16(42 + 2 * n, d, true));
    // Two gzip members (header, then the zeros) read as one stream.
    return [
      concatBytes([gzipSync(header), zerosGzip(megabytes)]),
      `gzip bomb: ${megabytes} MB of zeros, header ${huge ? 'claiming them' : 'of 24 x 20 x 12'}`,
    ];
  }
  const raw = new TextDecoder('latin1').decode(encodeNrrd(phantom.geometry, phantom.data));
  const [header] = raw.split('\n\n');
  const sizes = huge ? `sizes: 1024 1024 ${megabytes / 2}` : 'sizes: 24 20 12';
  const head = new TextEncoder().encode(`${header.replace('encoding: raw', 'encoding: gzip').replace(/^sizes: .*$/m, sizes)}\n\n`);
  return [concatBytes([head, zerosGzip(megabytes)]), `gzip bomb: ${megabytes} MB of zeros, ${sizes}`];
}

/** Case `index` of campaign `seed`: one mutation of one seed, the same on every run. */
export function makeCase(seed: number, index: number): FuzzCase {
  const random = seededRandom(Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
  const source = pick(random, allSeeds());
  const operators: (() => [Uint8Array, string])[] = [() => flipBits(random, source.bytes), () => truncate(random, source.bytes)];
  if (source.kind === 'nifti')
    operators.push(
      () => niftiField(random, source.bytes),
      () => niftiOverflow(random, source.bytes),
    );
  if (source.kind === 'nrrd' || source.kind === 'nrrd-gz')
    operators.push(
      () => textField(random, source.bytes, 'nrrd'),
      () => textField(random, source.bytes, 'nrrd'),
    );
  if (source.kind === 'mha')
    operators.push(
      () => textField(random, source.bytes, 'mha'),
      () => textField(random, source.bytes, 'mha'),
    );
  if (source.kind === 'dicom')
    operators.push(
      () => dicomField(random, source.bytes),
      () => dicomField(random, source.bytes),
    );
  if (source.kind === 'nifti-gz' || source.kind === 'nrrd-gz') {
    // Header fields inside the compressed stream: mutate the inflated file, compress it again.
    operators.push(() => gzipBomb(random, source.kind as 'nifti-gz' | 'nrrd-gz'));
    if (source.kind === 'nifti-gz') {
      const plain = encodeNifti(phantom.geometry, phantom.data);
      operators.push(() => {
        const [bytes, what] = random() < 0.5 ? niftiField(random, plain) : niftiOverflow(random, plain);
        return [gzipSync(bytes), `${what} (compressed)`];
      });
    }
  }
  const [bytes, mutation] = pick(random, operators)();
  const extension = source.name.slice(source.name.indexOf('.'));
  return { index, name: `case-${seed}-${index}${extension}`, mutation: `${source.name}: ${mutation}`, bytes };
}
