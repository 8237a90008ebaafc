/**
 * Image format detection from the file name and the first bytes of the file.
 * Magic bytes win over the extension when they are conclusive (a NIfTI named .dcm is NIfTI).
 */

export type ImageFormat = 'nifti' | 'nrrd' | 'metaimage' | 'dicom' | 'unknown';

/** Number of leading bytes detectFormat needs to see (DICOM preamble + 'DICM'). */
export const FORMAT_SNIFF_BYTES = 352;

const NAME_RULES: [RegExp, ImageFormat][] = [
  [/\.nii(\.gz)?$/i, 'nifti'],
  [/\.(nrrd|nhdr)$/i, 'nrrd'],
  [/\.(mha|mhd)$/i, 'metaimage'],
  [/\.(dcm|dicom|ima)$/i, 'dicom'],
];

/** Format suggested by the file name alone. */
export function formatFromName(fileName: string): ImageFormat {
  for (const [pattern, format] of NAME_RULES) if (pattern.test(fileName)) return format;
  return 'unknown';
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/** True for a DICOM Part 10 file: 128-byte preamble then 'DICM'. */
export function isDicomPart10(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && ascii(bytes, 128, 4) === 'DICM';
}

/** Format from magic bytes alone, for uncompressed data; 'unknown' when inconclusive. */
export function formatFromMagic(bytes: Uint8Array): ImageFormat {
  if (isDicomPart10(bytes)) return 'dicom';
  // NIfTI-1 ('n+1' / 'ni1') and NIfTI-2 ('n+2' / 'ni2') magic at byte 344 / 4.
  if (bytes.length >= 348) {
    const magic1 = ascii(bytes, 344, 3);
    if (magic1 === 'n+1' || magic1 === 'ni1') return 'nifti';
  }
  if (bytes.length >= 7) {
    const magic2 = ascii(bytes, 4, 3);
    if (magic2 === 'n+2' || magic2 === 'ni2') return 'nifti';
  }
  if (ascii(bytes, 0, 4) === 'NRRD') return 'nrrd';
  const head = ascii(bytes, 0, Math.min(bytes.length, 256));
  if (/^(ObjectType|NDims)\s*=/m.test(head)) return 'metaimage';
  return 'unknown';
}

/**
 * Detects the format of a file. `head` is its first FORMAT_SNIFF_BYTES bytes (fewer for short
 * files). Gzip-compressed content cannot be sniffed without inflating, so a gzip stream is
 * trusted only with a .nii.gz name (other gzip files are 'unknown').
 */
export function detectFormat(fileName: string, head: Uint8Array): ImageFormat {
  if (isGzip(head)) return /\.nii\.gz$/i.test(fileName) ? 'nifti' : 'unknown';
  const byMagic = formatFromMagic(head);
  if (byMagic !== 'unknown') return byMagic;
  const byName = formatFromName(fileName);
  // A DICOM without Part 10 header is common in old series: trust the extension only then.
  return byName;
}

/** Human-readable name of a format for messages. */
export function formatLabel(format: ImageFormat): string {
  const labels: Record<ImageFormat, string> = {
    nifti: 'NIfTI',
    nrrd: 'NRRD',
    metaimage: 'MetaImage',
    dicom: 'DICOM',
    unknown: 'unknown format',
  };
  return labels[format];
}

/**
 * Total byte length (header + voxel data) a single-file NIfTI-1 must have according to its
 * header, or null when `header` is not an uncompressed NIfTI-1 header. Needed because ITK's
 * NIfTI reader silently zero-fills truncated files.
 */
export function niftiExpectedByteLength(header: Uint8Array): number | null {
  const sizes = niftiSizes(header);
  if (!sizes || ascii(header, 344, 3) !== 'n+1') return null; // 'ni1' is a header/image pair: no data in this file
  const { view, littleEndian } = niftiView(header);
  const voxels = sizes.reduce((a, b) => a * b, 1);
  const bitsPerVoxel = view.getInt16(72, littleEndian);
  const voxelOffset = Math.max(352, Math.floor(view.getFloat32(108, littleEndian)));
  return voxelOffset + Math.ceil((voxels * bitsPerVoxel) / 8);
}

function niftiView(header: Uint8Array) {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  return { view, littleEndian: view.getInt32(0, true) === 348 };
}

/**
 * The size along each dimension of an uncompressed NIfTI-1 header (dims below 1 count as 1, as
 * readers take them), or null when `header` is not one.
 */
export function niftiSizes(header: Uint8Array): number[] | null {
  if (header.length < 348) return null;
  const { view, littleEndian } = niftiView(header);
  if (!littleEndian && view.getInt32(0, false) !== 348) return null;
  const magic = ascii(header, 344, 3);
  if (magic !== 'n+1' && magic !== 'ni1') return null;
  const dimensions = view.getInt16(40, littleEndian);
  if (dimensions < 1 || dimensions > 7) return null;
  return Array.from({ length: dimensions }, (_, d) => Math.max(1, view.getInt16(42 + 2 * d, littleEndian)));
}

/** Dimensions, size and data encoding an NRRD or MetaImage text header declares. */
export interface TextHeaderSize {
  dimension: number;
  sizes: number[];
  /** Bytes per voxel value, or null for a type not recognised here (the reader decides). */
  bytesPerValue: number | null;
  /** Data is a gzip stream (NRRD 'encoding: gzip'). */
  gzip: boolean;
}

const TYPE_BYTES: [RegExp, number][] = [
  [/^(signed |unsigned )?char$|^u?int8(_t)?$|^uchar$|^met_u?char$/i, 1],
  [/^(signed |unsigned )?short( int)?$|^u?int16(_t)?$|^ushort$|^met_u?short$/i, 2],
  [/^(signed |unsigned )?int$|^u?int32(_t)?$|^uint$|^float$|^met_u?int$|^met_float$/i, 4],
  [/^(signed |unsigned )?long long( int)?$|^u?int64(_t)?$|^u?longlong$|^double$|^met_u?long_long$|^met_double$/i, 8],
];

/**
 * What an NRRD or MetaImage header declares (see TextHeaderSize), or the reason it is invalid:
 * readers allocate from these numbers, so they are checked before any decoding.
 */
export function textHeaderSize(format: 'nrrd' | 'metaimage', head: Uint8Array): TextHeaderSize | string {
  const header = new TextDecoder('latin1').decode(head);
  const fields = format === 'nrrd' ? header.split(/\r?\n\r?\n/)[0] : header;
  const field = (pattern: RegExp) => pattern.exec(fields)?.[1]?.trim();
  const [dimensionText, sizesText, typeText] =
    format === 'nrrd'
      ? [field(/^dimension:[ \t]*(.*)$/im), field(/^sizes:[ \t]*(.*)$/im), field(/^type:[ \t]*(.*)$/im)]
      : [field(/^NDims[ \t]*=[ \t]*(.*)$/im), field(/^DimSize[ \t]*=[ \t]*(.*)$/im), field(/^ElementType[ \t]*=[ \t]*(.*)$/im)];
  const [dimensionName, sizesName] = format === 'nrrd' ? ['dimension', 'sizes'] : ['NDims', 'DimSize'];
  const dimension = Number(dimensionText);
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 16)
    return `invalid header: ${dimensionName} is ${JSON.stringify(dimensionText ?? 'missing')}`;
  const sizes = (sizesText ?? '').split(/\s+/).filter(Boolean).map(Number);
  if (sizes.length !== dimension || !sizes.every((n) => Number.isInteger(n) && n >= 1 && n < 2 ** 31)) {
    return `invalid header: ${sizesName} is ${JSON.stringify(sizesText ?? 'missing')} for ${dimension} dimensions`;
  }
  const bytesPerValue = TYPE_BYTES.find(([pattern]) => pattern.test(typeText ?? ''))?.[1] ?? null;
  const gzip = format === 'nrrd' && /^(gzip|gz)$/i.test(field(/^encoding:[ \t]*(.*)$/im) ?? '');
  return { dimension, sizes, bytesPerValue, gzip };
}

/** Bytes enough to see the text header of an NRRD or MetaImage file. */
export const TEXT_HEADER_BYTES = 8192;

/**
 * Name of the separate data file a detached NRRD (.nhdr) or MetaImage (.mhd) header points to,
 * or null when the data is in the same file. Our readers get one file at a time, so detached
 * data cannot be read.
 */
export function detachedDataFile(format: ImageFormat, head: Uint8Array): string | null {
  const header = new TextDecoder('latin1').decode(head);
  if (format === 'nrrd') {
    // The header ends at the first blank line; "data file:" (or "datafile:") names the data.
    const fields = header.split(/\r?\n\r?\n/)[0];
    return /^data ?file:\s*(.+)$/im.exec(fields)?.[1]?.trim() ?? null;
  }
  if (format === 'metaimage') {
    const file = /^ElementDataFile\s*=\s*(.+)$/im.exec(header)?.[1]?.trim();
    return file && file !== 'LOCAL' ? file : null;
  }
  return null;
}
