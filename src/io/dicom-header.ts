/**
 * What a DICOM file is, from its header alone (dicom-parser, no pixel decoding): an image, a
 * segmentation (DICOM SEG), an object without an image (RT Plan, ECG, report...), or a file we
 * must refuse (truncated, Siemens mosaic). Runs on bytes, so the browser, workers, Node and the
 * DICOMweb client share it. ITK decodes the pixels afterwards; it silently zero-fills truncated
 * pixel data and shows a mosaic as one tiled slice, hence these checks.
 */
import * as dicomParserModule from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { inflateSync } from 'fflate';
import { isDicomPart10 } from '../core/formats';

// A UMD bundle: Node's ESM loader exposes it as the default export only, bundlers as both.
const { parseDicom, readPart10Header } =
  (dicomParserModule as unknown as { default?: typeof dicomParserModule }).default ?? dicomParserModule;

export interface DicomHeader {
  sopClassUid: string;
  modality: string;
  seriesInstanceUid: string;
  seriesDescription: string;
  seriesNumber: string;
  imageType: string[];
  rows: number;
  columns: number;
  /** Number of frames (1 for a single-frame image). */
  frames: number;
  /** ImagePositionPatient of the (first) frame, when given. */
  position: number[] | null;
  /**
   * ImagePositionPatient of each frame that states one: every frame's of an enhanced object (its
   * per-frame functional groups), otherwise the image's one (of its first frame).
   */
  framePositions: number[][];
  /** ImageOrientationPatient (row then column direction cosines), when given. */
  orientation: number[] | null;
  /** Gantry/detector tilt in degrees (0 when absent). */
  gantryTilt: number;
  /** Series a DICOM SEG refers to (ReferencedSeriesSequence). */
  referencedSeriesUids: string[];
  /** Where its pixels lie when they can be read without a decoder (see NativePixels). */
  nativePixels?: NativePixels;
}

/**
 * The pixels of a single-frame greyscale image stored uncompressed little-endian (the common CT and
 * MR series), read straight from the file's bytes instead of through ITK (dicom-native.ts).
 */
export interface NativePixels {
  /** Offset of the pixel data in the file's bytes. */
  offset: number;
  bitsAllocated: 8 | 16;
  signed: boolean;
  /** RescaleSlope and RescaleIntercept (1 and 0 when absent). */
  slope: number;
  intercept: number;
  /** PixelSpacing: between rows, then between columns (mm). */
  pixelSpacing: [number, number];
}

const LITTLE_ENDIAN_NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

export type DicomObject =
  | { kind: 'image'; header: DicomHeader }
  | { kind: 'segmentation'; header: DicomHeader }
  /**
   * `what` names it, e.g. "an RT Plan (SOP class 1.2.840.10008.5.1.4.1.1.481.5, modality RTPLAN)";
   * `label` briefly, e.g. "RT Plan (RTPLAN)".
   */
  | { kind: 'no-image'; header: DicomHeader; what: string; label: string }
  /** Refused: truncated pixel data, a mosaic... `reason` is user-facing. */
  | { kind: 'unusable'; reason: string }
  /** Our parser cannot read the header (not Part 10, unusual encoding): left to ITK to decide. */
  | { kind: 'unknown' };

const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
const DEFLATED_TRANSFER_SYNTAX = '1.2.840.10008.1.2.1.99';
/** Transfer syntaxes with native (uncompressed) pixel data, whose length can be checked. */
const NATIVE_TRANSFER_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', DEFLATED_TRANSFER_SYNTAX]);

/** The value representations of PS3.5 6.2; a reader takes any other as 4-byte-length UN. */
const VALUE_REPRESENTATIONS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

/** A UID: dot-separated numbers (PS3.5 9.1). */
const UID = /^\d+(\.\d+)*$/;

/** Names of common DICOM objects that hold no image (SOP class UID prefixes, PS3.4 B.5). */
const OBJECT_NAMES: [string, string][] = [
  ['1.2.840.10008.1.3.10', 'a DICOMDIR (a media directory)'],
  ['1.2.840.10008.5.1.4.1.1.481.5', 'an RT Plan'],
  ['1.2.840.10008.5.1.4.1.1.481.8', 'an RT Ion Plan'],
  ['1.2.840.10008.5.1.4.1.1.481.3', 'an RT Structure Set'],
  ['1.2.840.10008.5.1.4.1.1.9.', 'a waveform (ECG or other signal)'],
  ['1.2.840.10008.5.1.4.1.1.88.', 'a structured report'],
  ['1.2.840.10008.5.1.4.1.1.104.', 'an encapsulated document'],
  ['1.2.840.10008.5.1.4.1.1.11.', 'a presentation state'],
  ['1.2.840.10008.5.1.4.1.1.66', 'a raw data or registration object'],
];

/** dicom-parser inflates deflated datasets with Node's zlib by default; fflate works everywhere. */
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateSync(bytes.subarray(position));
  const whole = new Uint8Array(position + inflated.length);
  whole.set(bytes.subarray(0, position));
  whole.set(inflated, position);
  return whole;
}

function text(data: DataSet, tag: string): string {
  return (data.string(tag) ?? '').trim();
}

function numbers(data: DataSet, tag: string, count: number): number[] | null {
  const values = Array.from({ length: count }, (_, n) => data.floatString(tag, n));
  return values.every((v) => v !== undefined && Number.isFinite(v)) ? (values as number[]) : null;
}

/** The first item's dataset of a sequence, if any. */
function firstItem(data: DataSet | undefined, tag: string): DataSet | undefined {
  return data?.elements[tag]?.items?.[0]?.dataSet;
}

function tagText(tag: string): string {
  return `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`;
}

function headerOf(data: DataSet): DicomHeader {
  // Enhanced multi-frame objects keep orientation and positions in functional groups.
  const shared = firstItem(data, 'x52009229');
  const firstFrame = firstItem(data, 'x52009230');
  const orientationSource = firstItem(shared, 'x00209116') ?? firstItem(firstFrame, 'x00209116');
  const positionSource = firstItem(firstFrame, 'x00209113');
  const referencedSeries = data.elements.x00081115?.items ?? [];
  const frameItems = data.elements.x52009230?.items ?? [];
  const framePositions = (frameItems.length ? frameItems.map((item) => firstItem(item.dataSet, 'x00209113')) : [data])
    .map((source) => source && numbers(source, 'x00200032', 3))
    .filter((p): p is number[] => p !== null && p !== undefined);
  return {
    sopClassUid: text(data, 'x00080016') || text(data, 'x00020002'),
    modality: text(data, 'x00080060'),
    seriesInstanceUid: text(data, 'x0020000e'),
    seriesDescription: text(data, 'x0008103e'),
    seriesNumber: text(data, 'x00200011'),
    imageType: text(data, 'x00080008')
      .split('\\')
      .map((part) => part.trim().toUpperCase()),
    rows: data.uint16('x00280010') ?? 0,
    columns: data.uint16('x00280011') ?? 0,
    frames: Math.max(1, data.intString('x00280008') ?? 1),
    position: numbers(positionSource ?? data, 'x00200032', 3),
    framePositions,
    orientation: numbers(orientationSource ?? data, 'x00200037', 6),
    gantryTilt: data.floatString('x00181120') ?? 0,
    referencedSeriesUids: referencedSeries.map((item) => (item.dataSet ? text(item.dataSet, 'x0020000e') : '')).filter(Boolean),
  };
}

/** Bytes the native pixel data must hold according to the header. */
function expectedPixelBytes(data: DataSet, header: DicomHeader): number {
  const samples = data.uint16('x00280002') ?? 1;
  const bits = data.uint16('x00280100') ?? 16;
  // 4:2:2 chroma subsampling stores two values per pixel instead of three.
  const subsampled = /^YBR_(FULL|PARTIAL)_422$/.test(text(data, 'x00280004')) ? 2 / 3 : 1;
  return Math.ceil((header.rows * header.columns * header.frames * samples * bits * subsampled) / 8);
}

function describeObject(header: DicomHeader): { what: string; label: string } {
  const name = OBJECT_NAMES.find(([prefix]) => header.sopClassUid.startsWith(prefix))?.[1] ?? 'a DICOM object';
  const modality = header.modality ? `, modality ${header.modality}` : '';
  return {
    what: `${name} (SOP class ${header.sopClassUid || 'not given'}${modality})`,
    label: `${name.replace(/^an? /, '')}${header.modality ? ` (${header.modality})` : ''}`,
  };
}

/** Why a header that parsed cannot be shown as a scan, or null. */
function imageProblem(data: DataSet, header: DicomHeader, pixels: Element): string | null {
  // Values no image has; some make the browser's DICOM decoder stop without an answer.
  const bits = data.uint16('x00280100');
  if (bits !== undefined && ![1, 8, 16, 32, 64].includes(bits)) return `invalid header: BitsAllocated is ${bits}`;
  const samples = data.uint16('x00280002');
  if (samples !== undefined && ![1, 3, 4].includes(samples)) return `invalid header: SamplesPerPixel is ${samples}`;
  // ITK reads an image only under a SOP class it knows; the browser's decoder stops without an
  // answer on a damaged one, so a file whose stated SOP classes are none of them a UID is refused.
  const sopClasses = [text(data, 'x00080016'), text(data, 'x00020002')].filter(Boolean);
  if (sopClasses.length > 0 && !sopClasses.some((uid) => UID.test(uid))) {
    return `invalid header: its SOP Class UID ${JSON.stringify(sopClasses[0])} is not a UID`;
  }
  const damaged = unknownVr(data);
  if (damaged) return `invalid header: element ${tagText(damaged.tag)} has no valid value representation (${JSON.stringify(damaged.vr)})`;
  if (header.imageType.includes('MOSAIC')) {
    return `it is a Siemens mosaic (ImageType ${header.imageType.join('\\')}): its ${header.columns} x ${header.rows} image holds many slices side by side, which cannot be shown as anatomy; convert the series with dcm2niix first`;
  }
  const transferSyntax = text(data, 'x00020010');
  if (!pixels.encapsulatedPixelData && NATIVE_TRANSFER_SYNTAXES.has(transferSyntax)) {
    const expected = expectedPixelBytes(data, header);
    if (pixels.length < expected) {
      return `the file is truncated: its pixel data holds ${pixels.length} bytes, its ${header.columns} x ${header.rows} x ${header.frames} image needs ${expected}`;
    }
  }
  return null;
}

/**
 * The first explicit-VR element (items included) whose VR is none of DICOM's. dicom-parser reads
 * its length from 2 bytes, ITK's decoder from the next 4 as the standard says for an unknown VR,
 * and then tries to read that many bytes (a flipped bit in "PN" meant ~2 GB and 5 s).
 */
function unknownVr(data: DataSet): Element | undefined {
  for (const element of Object.values(data.elements)) {
    // Item and delimitation tags (FFFE,xxxx) carry no VR, and an inflated dataset may end in zero padding (VR "").
    if (element.vr?.length === 2 && !element.tag.startsWith('xfffe') && !VALUE_REPRESENTATIONS.has(element.vr)) return element;
    for (const item of element.items ?? []) {
      const inner = item.dataSet && unknownVr(item.dataSet);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Error thrown by dicom-parser, carrying what it had parsed. */
interface ParseFailure {
  dataSet?: DataSet;
}

/** Describes a partly parsed file whose last element runs past its end: it is truncated. */
function truncation(bytes: Uint8Array, failure: unknown): DicomObject {
  const partial = (failure as ParseFailure | null)?.dataSet;
  const elements = partial ? Object.values(partial.elements) : [];
  const last = elements[elements.length - 1];
  // Without a SOP class the parser lost its way early (odd encoding), which is no proof of truncation.
  if (!partial || !last || !text(partial, 'x00080016')) return { kind: 'unknown' };
  const needs = last.dataOffset + last.length - bytes.length;
  const where = last.tag === 'x7fe00010' ? 'its pixel data' : `element ${tagText(last.tag)}`;
  const detail = needs > 0 ? `${where} needs ${needs} more bytes than the file holds` : `it ends inside ${where}`;
  return { kind: 'unusable', reason: `the file is truncated: ${detail}` };
}

/** Transfer syntaxes tried for a bare dataset (no Part 10 header), as old archives hold. */
const BARE_DATASET_SYNTAXES = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2'];

/** A bare dataset parsed in the first transfer syntax that yields a SOP class, or null. */
function parseBareDataset(bytes: Uint8Array): DataSet | null {
  for (const syntax of BARE_DATASET_SYNTAXES) {
    try {
      const data = parseDicom(bytes, { TransferSyntaxUID: syntax });
      if (text(data, 'x00080016')) return data;
    } catch {
      // Not this encoding.
    }
  }
  return null;
}

/**
 * Classifies a DICOM file from its bytes (the whole file: truncation is judged on its length).
 * A file without the Part 10 header is tried as a bare dataset.
 */
export function inspectDicom(bytes: Uint8Array): DicomObject {
  try {
    return classify(bytes);
  } catch {
    // dicom-parser throws (strings) on reads past the end of damaged elements: left to ITK.
    return { kind: 'unknown' };
  }
}

/**
 * Why a Part 10 file's Transfer Syntax UID, as its bytes stand, cannot be read, or null. A damaged
 * length makes the UID swallow the next element: dicom-parser stops at the padding and parses on
 * misaligned, ITK's decoder spends seconds and a gigabyte before giving up.
 */
function transferSyntaxProblem(bytes: Uint8Array): string | null {
  if (!isDicomPart10(bytes)) return null;
  let element: Element | undefined;
  try {
    element = readPart10Header(bytes).elements.x00020010;
  } catch {
    return null;
  }
  if (!element) return null;
  const uid = String.fromCharCode(...bytes.subarray(element.dataOffset, element.dataOffset + element.length)).replace(/[\0 ]+$/, '');
  return UID.test(uid) ? null : `invalid header: its Transfer Syntax UID ${JSON.stringify(uid)} is not a UID`;
}

function classify(bytes: Uint8Array): DicomObject {
  const syntaxProblem = transferSyntaxProblem(bytes);
  if (syntaxProblem) return { kind: 'unusable', reason: syntaxProblem };
  let data: DataSet;
  try {
    data = parseDicom(bytes, { inflater: inflater as never });
  } catch (failure) {
    const bare = bytes.length > 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM' ? null : parseBareDataset(bytes);
    if (!bare) return truncation(bytes, failure);
    data = bare;
  }
  const header = headerOf(data);
  if (header.sopClassUid === SEGMENTATION_STORAGE) return { kind: 'segmentation', header };
  const pixels = data.elements.x7fe00010 ?? data.elements.x7fe00008 ?? data.elements.x7fe00009;
  if (!pixels || header.rows === 0 || header.columns === 0) return { kind: 'no-image', header, ...describeObject(header) };
  const reason = imageProblem(data, header, pixels);
  return reason ? { kind: 'unusable', reason } : { kind: 'image', header: { ...header, nativePixels: nativePixels(data, header, pixels) } };
}

/** The image's NativePixels when it is one the native reader takes, otherwise undefined. */
function nativePixels(data: DataSet, header: DicomHeader, pixels: Element): NativePixels | undefined {
  const bits = data.uint16('x00280100');
  const spacing = numbers(data, 'x00280030', 2);
  const native =
    !pixels.encapsulatedPixelData &&
    LITTLE_ENDIAN_NATIVE.has(text(data, 'x00020010')) &&
    header.frames === 1 &&
    (data.uint16('x00280002') ?? 1) === 1 &&
    text(data, 'x00280004') === 'MONOCHROME2' &&
    (bits === 8 || bits === 16) &&
    pixels.length >= header.rows * header.columns * (bits / 8) &&
    spacing !== null &&
    spacing.every((v) => v > 0);
  if (!native) return undefined;
  return {
    offset: pixels.dataOffset,
    bitsAllocated: bits,
    signed: data.uint16('x00280103') === 1,
    slope: data.floatString('x00281053') ?? 1,
    intercept: data.floatString('x00281052') ?? 0,
    pixelSpacing: spacing as [number, number],
  };
}

/** The user-facing reason an object that is not an image cannot be opened as a scan. */
export function notAnImageReason(object: DicomObject): string | null {
  if (object.kind === 'no-image') return `it is ${object.what}, which holds no image`;
  if (object.kind === 'segmentation') return segmentationReason(object.header);
  if (object.kind === 'unusable') return object.reason;
  return null;
}

function segmentationReason(header: DicomHeader): string {
  const series = header.referencedSeriesUids.length ? `series ${header.referencedSeriesUids.join(', ')}` : 'a series it does not name';
  return `it is a DICOM SEG (a segmentation) of ${series}; open that series first, then import this file with "Import labelmap"`;
}
