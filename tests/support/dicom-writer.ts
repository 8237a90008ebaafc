/**
 * A minimal DICOM Part 10 writer for CT slices (Explicit VR Little Endian, 16-bit signed),
 * written from the standard (PS3.5 / PS3.10) to generate test series: one file per k-slice of a
 * Volume, with ImagePositionPatient / ImageOrientationPatient / PixelSpacing from its geometry.
 */
import { determinant3 } from '../../src/core/geometry';
import type { ImageGeometry } from '../../src/core/types';

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** "2.25." + a decimal integer: the UID root for UUID-derived UIDs (PS3.5 B.2). */
const UID_ROOT = '2.25.';

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR encoding. */
const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

interface Element {
  tag: [number, number];
  vr: string;
  value: Uint8Array;
}

function padded(text: string, vr: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = vr === 'UI' ? 0 : 0x20; // UIDs pad with NUL, text with space
  return out;
}

function text(group: number, element: number, vr: string, value: string): Element {
  return { tag: [group, element], vr, value: padded(value, vr) };
}

function uint16(group: number, element: number, value: number): Element {
  const bytes = new Uint8Array(2);
  new DataView(bytes.buffer).setUint16(0, value, true);
  return { tag: [group, element], vr: 'US', value: bytes };
}

function encodeElements(elements: Element[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const { tag, vr, value } of elements) {
    const long = LONG_VRS.has(vr);
    const head = new Uint8Array(long ? 12 : 8);
    const view = new DataView(head.buffer);
    view.setUint16(0, tag[0], true);
    view.setUint16(2, tag[1], true);
    head[4] = vr.charCodeAt(0);
    head[5] = vr.charCodeAt(1);
    if (long) view.setUint32(8, value.length, true);
    else view.setUint16(6, value.length, true);
    chunks.push(head, value);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Decimal string (DS) of at most 16 characters. */
function ds(value: number): string {
  for (let digits = 10; digits > 0; digits--) {
    const s = String(Number(value.toPrecision(digits)));
    if (s.length <= 16) return s;
  }
  return String(Math.round(value));
}

export interface DicomSeriesOptions {
  seriesInstanceUid?: string;
  studyInstanceUid?: string;
  seriesDescription?: string;
  modality?: string;
  seriesNumber?: number;
  patientName?: string;
}

let uidCounter = 0;
/** A fresh, valid UID (unique within a test run). */
function makeUid(): string {
  uidCounter++;
  return `${UID_ROOT}${Date.now()}${String(uidCounter).padStart(6, '0')}${Math.floor(Math.random() * 1e6)}`;
}

/**
 * One DICOM file per k-slice of an int16 volume. The direction must be right-handed
 * (column 2 = column 0 x column 1): DICOM readers derive the slice axis from the cross product.
 */
export function encodeDicomSeries(
  geometry: ImageGeometry,
  data: Int16Array,
  options: DicomSeriesOptions = {},
): Uint8Array[] {
  const { size, spacing, origin, direction: d } = geometry;
  if (determinant3(d) <= 0) throw new Error('encodeDicomSeries needs a right-handed direction matrix');
  const [columns, rows, slices] = size;
  const seriesUid = options.seriesInstanceUid ?? makeUid();
  const studyUid = options.studyInstanceUid ?? makeUid();
  const frameUid = makeUid();
  const orientation = [d[0], d[1], d[2], d[3], d[4], d[5]].map(ds).join('\\');
  const sliceVoxels = columns * rows;
  const files: Uint8Array[] = [];
  for (let k = 0; k < slices; k++) {
    const sopUid = makeUid();
    const position = [0, 1, 2].map((r) => ds(origin[r] + d[6 + r] * spacing[2] * k)).join('\\');
    const slice = data.subarray(k * sliceVoxels, (k + 1) * sliceVoxels);
    const pixels = new Uint8Array(slice.buffer, slice.byteOffset, slice.byteLength);
    const dataset = encodeElements([
      text(0x0008, 0x0016, 'UI', CT_IMAGE_STORAGE),
      text(0x0008, 0x0018, 'UI', sopUid),
      text(0x0008, 0x0060, 'CS', options.modality ?? 'CT'),
      text(0x0008, 0x103e, 'LO', options.seriesDescription ?? 'Test series'),
      text(0x0010, 0x0010, 'PN', options.patientName ?? 'Test^Phantom'),
      text(0x0010, 0x0020, 'LO', 'TEST0001'),
      text(0x0018, 0x0050, 'DS', ds(spacing[2])),
      text(0x0020, 0x000d, 'UI', studyUid),
      text(0x0020, 0x000e, 'UI', seriesUid),
      text(0x0020, 0x0011, 'IS', String(options.seriesNumber ?? 1)),
      text(0x0020, 0x0013, 'IS', String(k + 1)),
      text(0x0020, 0x0032, 'DS', position),
      text(0x0020, 0x0037, 'DS', orientation),
      text(0x0020, 0x0052, 'UI', frameUid),
      uint16(0x0028, 0x0002, 1),
      text(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
      uint16(0x0028, 0x0010, rows),
      uint16(0x0028, 0x0011, columns),
      // PixelSpacing is row spacing (between rows, along j) \ column spacing (along i).
      text(0x0028, 0x0030, 'DS', `${ds(spacing[1])}\\${ds(spacing[0])}`),
      uint16(0x0028, 0x0100, 16),
      uint16(0x0028, 0x0101, 16),
      uint16(0x0028, 0x0102, 15),
      uint16(0x0028, 0x0103, 1),
      text(0x0028, 0x1052, 'DS', '0'),
      text(0x0028, 0x1053, 'DS', '1'),
      { tag: [0x7fe0, 0x0010], vr: 'OW', value: pixels },
    ]);
    const metaBody = encodeElements([
      { tag: [0x0002, 0x0001], vr: 'OB', value: new Uint8Array([0, 1]) },
      text(0x0002, 0x0002, 'UI', CT_IMAGE_STORAGE),
      text(0x0002, 0x0003, 'UI', sopUid),
      text(0x0002, 0x0010, 'UI', EXPLICIT_VR_LITTLE_ENDIAN),
      text(0x0002, 0x0012, 'UI', `${UID_ROOT}1`),
    ]);
    const groupLength = new Uint8Array(4);
    new DataView(groupLength.buffer).setUint32(0, metaBody.length, true);
    const meta = encodeElements([{ tag: [0x0002, 0x0000], vr: 'UL', value: groupLength }]);
    const file = new Uint8Array(132 + meta.length + metaBody.length + dataset.length);
    file.set([0x44, 0x49, 0x43, 0x4d], 128); // 128-byte zero preamble, then 'DICM'
    file.set(meta, 132);
    file.set(metaBody, 132 + meta.length);
    file.set(dataset, 132 + meta.length + metaBody.length);
    files.push(file);
  }
  return files;
}
