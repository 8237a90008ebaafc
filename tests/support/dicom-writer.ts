/**
 * A minimal DICOM Part 10 writer for CT slices (Explicit VR Little Endian, 16-bit signed),
 * written from the standard (PS3.5 / PS3.10) to generate test series: one file per k-slice of a
 * Volume, with ImagePositionPatient / ImageOrientationPatient / PixelSpacing from its geometry;
 * also the odd cases real archives hold (gantry tilt, Siemens mosaic, enhanced multi-frame,
 * objects without an image).
 */
import { concatBytes } from '../../src/core/bytes';
import { determinant3 } from '../../src/core/geometry';
import type { ImageGeometry } from '../../src/core/types';

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.1';
export const RT_PLAN_STORAGE = '1.2.840.10008.5.1.4.1.1.481.5';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** "2.25." + a decimal integer: the UID root for UUID-derived UIDs (PS3.5 B.2). */
const UID_ROOT = '2.25.';

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR encoding. */
const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

export interface Element {
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

/** A sequence of defined length; each item is a list of elements (PS3.5 7.5). */
function sequence(group: number, element: number, items: Element[][]): Element {
  const encoded = items.map((item) => {
    const body = encodeElements(item);
    const head = new Uint8Array(8);
    const view = new DataView(head.buffer);
    view.setUint16(0, 0xfffe, true);
    view.setUint16(2, 0xe000, true);
    view.setUint32(4, body.length, true);
    return concatBytes([head, body]);
  });
  return { tag: [group, element], vr: 'SQ', value: concatBytes(encoded) };
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
  return concatBytes(chunks);
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
  /** ImageType (0008,0008), e.g. 'ORIGINAL\\PRIMARY\\M\\MOSAIC' for a Siemens mosaic. */
  imageType?: string;
  /**
   * CT gantry tilt in degrees: the slices keep the geometry's orientation but each is shifted
   * along the column axis by tan(tilt) x slice spacing, as a tilted gantry acquires them.
   */
  gantryTiltDegrees?: number;
  /** Derive every UID from this root (reproducible bytes, e.g. fuzz seeds) instead of fresh ones. */
  uidRoot?: string;
  /** RescaleSlope and RescaleIntercept (1 and 0 by default): the stored values are the volume's. */
  rescale?: { slope: number; intercept: number };
}

let uidCounter = 0;
/** A fresh, valid UID (unique within a test run). */
function makeUid(): string {
  uidCounter++;
  return `${UID_ROOT}${Date.now()}${String(uidCounter).padStart(6, '0')}${Math.floor(Math.random() * 1e6)}`;
}

/** Fresh UIDs, or UIDs numbered under `uidRoot` (the same bytes on every run). */
function uidSource(uidRoot?: string): () => string {
  let n = 0;
  return uidRoot ? () => `${uidRoot}.${++n}` : makeUid;
}

/** A Part 10 file: preamble, 'DICM', file meta information, then the dataset. */
function part10File(sopClassUid: string, sopInstanceUid: string, dataset: Element[]): Uint8Array {
  const metaBody = encodeElements([
    { tag: [0x0002, 0x0001], vr: 'OB', value: new Uint8Array([0, 1]) },
    text(0x0002, 0x0002, 'UI', sopClassUid),
    text(0x0002, 0x0003, 'UI', sopInstanceUid),
    text(0x0002, 0x0010, 'UI', EXPLICIT_VR_LITTLE_ENDIAN),
    text(0x0002, 0x0012, 'UI', `${UID_ROOT}1`),
  ]);
  const groupLength = new Uint8Array(4);
  new DataView(groupLength.buffer).setUint32(0, metaBody.length, true);
  const meta = encodeElements([{ tag: [0x0002, 0x0000], vr: 'UL', value: groupLength }]);
  const preamble = new Uint8Array(132);
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128); // 128-byte zero preamble, then 'DICM'
  return concatBytes([preamble, meta, metaBody, encodeElements(dataset)]);
}

/** Row and column direction cosines (DS) and the in-plane PixelSpacing of a geometry. */
function planeElements(geometry: ImageGeometry): { orientation: string; pixelSpacing: string } {
  const d = geometry.direction;
  return {
    orientation: [d[0], d[1], d[2], d[3], d[4], d[5]].map(ds).join('\\'),
    // PixelSpacing is row spacing (between rows, along j) \ column spacing (along i).
    pixelSpacing: `${ds(geometry.spacing[1])}\\${ds(geometry.spacing[0])}`,
  };
}

/** Image pixel module of 16-bit signed grey-level frames. */
function pixelModule(columns: number, rows: number, pixels: Uint8Array, frames?: number, rescale = { slope: 1, intercept: 0 }): Element[] {
  return [
    uint16(0x0028, 0x0002, 1),
    text(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    ...(frames === undefined ? [] : [text(0x0028, 0x0008, 'IS', String(frames))]),
    uint16(0x0028, 0x0010, rows),
    uint16(0x0028, 0x0011, columns),
    uint16(0x0028, 0x0100, 16),
    uint16(0x0028, 0x0101, 16),
    uint16(0x0028, 0x0102, 15),
    uint16(0x0028, 0x0103, 1),
    text(0x0028, 0x1052, 'DS', ds(rescale.intercept)),
    text(0x0028, 0x1053, 'DS', ds(rescale.slope)),
    { tag: [0x7fe0, 0x0010], vr: 'OW', value: pixels },
  ];
}

function bytesOf(data: Int16Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * One DICOM file per k-slice of an int16 volume. The direction must be right-handed
 * (column 2 = column 0 x column 1): DICOM readers derive the slice axis from the cross product.
 */
export function encodeDicomSeries(geometry: ImageGeometry, data: Int16Array, options: DicomSeriesOptions = {}): Uint8Array[] {
  const { size, spacing, origin, direction: d } = geometry;
  if (determinant3(d) <= 0) throw new Error('encodeDicomSeries needs a right-handed direction matrix');
  const [columns, rows, slices] = size;
  const uid = uidSource(options.uidRoot);
  const seriesUid = options.seriesInstanceUid ?? uid();
  const studyUid = options.studyInstanceUid ?? uid();
  const frameUid = uid();
  const { orientation, pixelSpacing } = planeElements(geometry);
  const tilt = ((options.gantryTiltDegrees ?? 0) * Math.PI) / 180;
  const sliceVoxels = columns * rows;
  const files: Uint8Array[] = [];
  for (let k = 0; k < slices; k++) {
    const sopUid = uid();
    const step = spacing[2] * k;
    const position = [0, 1, 2].map((r) => ds(origin[r] + d[6 + r] * step + d[3 + r] * Math.tan(tilt) * step)).join('\\');
    const dataset = [
      ...(options.imageType ? [text(0x0008, 0x0008, 'CS', options.imageType)] : []),
      text(0x0008, 0x0016, 'UI', CT_IMAGE_STORAGE),
      text(0x0008, 0x0018, 'UI', sopUid),
      text(0x0008, 0x0060, 'CS', options.modality ?? 'CT'),
      text(0x0008, 0x103e, 'LO', options.seriesDescription ?? 'Test series'),
      text(0x0010, 0x0010, 'PN', options.patientName ?? 'Test^Phantom'),
      text(0x0010, 0x0020, 'LO', 'TEST0001'),
      text(0x0018, 0x0050, 'DS', ds(spacing[2])),
      ...(options.gantryTiltDegrees ? [text(0x0018, 0x1120, 'DS', ds(options.gantryTiltDegrees))] : []),
      text(0x0020, 0x000d, 'UI', studyUid),
      text(0x0020, 0x000e, 'UI', seriesUid),
      text(0x0020, 0x0011, 'IS', String(options.seriesNumber ?? 1)),
      text(0x0020, 0x0013, 'IS', String(k + 1)),
      text(0x0020, 0x0032, 'DS', position),
      text(0x0020, 0x0037, 'DS', orientation),
      text(0x0020, 0x0052, 'UI', frameUid),
      text(0x0028, 0x0030, 'DS', pixelSpacing),
      ...pixelModule(columns, rows, bytesOf(data.subarray(k * sliceVoxels, (k + 1) * sliceVoxels)), undefined, options.rescale),
    ];
    files.push(part10File(CT_IMAGE_STORAGE, sopUid, dataset));
  }
  return files;
}

/**
 * The whole volume as one Enhanced CT file: the shared functional groups hold the pixel
 * measures and orientation, each frame's group its position (PS3.3 C.7.6.16). `frameOrder`
 * lists the slices k in the order their frames are stored (default 0, 1, 2, ...).
 */
export function encodeEnhancedDicom(
  geometry: ImageGeometry,
  data: Int16Array,
  options: DicomSeriesOptions & { frameOrder?: number[] } = {},
): Uint8Array {
  const { size, spacing, origin, direction: d } = geometry;
  const [columns, rows, slices] = size;
  const order = options.frameOrder ?? Array.from({ length: slices }, (_, k) => k);
  const uid = uidSource(options.uidRoot);
  const sopUid = uid();
  const { orientation, pixelSpacing } = planeElements(geometry);
  const sliceVoxels = columns * rows;
  const pixels = new Int16Array(order.length * sliceVoxels);
  order.forEach((k, frame) => pixels.set(data.subarray(k * sliceVoxels, (k + 1) * sliceVoxels), frame * sliceVoxels));
  const shared = [
    sequence(0x0028, 0x9110, [[text(0x0018, 0x0050, 'DS', ds(spacing[2])), text(0x0028, 0x0030, 'DS', pixelSpacing)]]),
    sequence(0x0020, 0x9116, [[text(0x0020, 0x0037, 'DS', orientation)]]),
  ];
  const perFrame = order.map((k) => [
    sequence(0x0020, 0x9113, [[text(0x0020, 0x0032, 'DS', [0, 1, 2].map((r) => ds(origin[r] + d[6 + r] * spacing[2] * k)).join('\\'))]]),
  ]);
  const dataset = [
    text(0x0008, 0x0008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
    text(0x0008, 0x0016, 'UI', ENHANCED_CT_IMAGE_STORAGE),
    text(0x0008, 0x0018, 'UI', sopUid),
    text(0x0008, 0x0060, 'CS', options.modality ?? 'CT'),
    text(0x0008, 0x103e, 'LO', options.seriesDescription ?? 'Enhanced test series'),
    text(0x0010, 0x0010, 'PN', options.patientName ?? 'Test^Phantom'),
    text(0x0010, 0x0020, 'LO', 'TEST0001'),
    text(0x0020, 0x000d, 'UI', options.studyInstanceUid ?? uid()),
    text(0x0020, 0x000e, 'UI', options.seriesInstanceUid ?? uid()),
    text(0x0020, 0x0011, 'IS', String(options.seriesNumber ?? 1)),
    text(0x0020, 0x0013, 'IS', '1'),
    text(0x0020, 0x0052, 'UI', uid()),
    ...pixelModule(columns, rows, bytesOf(pixels), order.length),
    sequence(0x5200, 0x9229, [shared]),
    sequence(0x5200, 0x9230, perFrame),
  ];
  // Elements must be in ascending tag order.
  dataset.sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1]);
  return part10File(ENHANCED_CT_IMAGE_STORAGE, sopUid, dataset);
}

/** A DICOM object without pixel data (e.g. an RT Plan), as archives hold beside the images. */
export function encodeDicomWithoutImage(sopClassUid: string, modality: string, options: DicomSeriesOptions = {}): Uint8Array {
  const sopUid = makeUid();
  return part10File(sopClassUid, sopUid, [
    text(0x0008, 0x0016, 'UI', sopClassUid),
    text(0x0008, 0x0018, 'UI', sopUid),
    text(0x0008, 0x0060, 'CS', modality),
    text(0x0010, 0x0010, 'PN', options.patientName ?? 'Test^Phantom'),
    text(0x0020, 0x000d, 'UI', options.studyInstanceUid ?? makeUid()),
    text(0x0020, 0x000e, 'UI', options.seriesInstanceUid ?? makeUid()),
  ]);
}
