/**
 * Image IO for Node (CLI, tests): itk-wasm's Node pipelines, returning our Volume.
 * Same validation and messages as the browser readers (./browser.ts); excluded from the app's tsconfig.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  metaReadImageNode,
  metaWriteImageNode,
  niftiReadImageNode,
  niftiWriteImageNode,
  nrrdReadImageNode,
  nrrdWriteImageNode,
} from '@itk-wasm/image-io';
import { readImageDicomFileSeriesNode, writeSegmentationNode } from '@itk-wasm/dicom';
import type { Image } from 'itk-wasm';
import { detectFormat, FORMAT_SNIFF_BYTES, formatFromName, isDicomPart10, type ImageFormat } from '../core/formats';
import type { DicomSegMetaInfo } from '../core/export/dicom-seg-meta';
import type { Volume } from '../core/types';
import { LoadError, type ValidationOptions } from '../core/validate';
import { inspectDicom } from './dicom-header';
import { checkDicomSeriesFiles, correctDicomVolume, groupDicomSeries, seriesKey, skipKind, skippedSummary } from './dicom-series';
import { readNativeSeries } from './dicom-native';
import { itkImageToVolume, labelmapToDicomSegImage, volumeToItkImage } from './itk-image';
import { assertReadableFile } from './preflight';
import { decodeError, unreadableError, unsupportedFormatError } from './read-errors';
import type { DicomSeriesInfo } from './types';

type NodeReader = (filePath: string) => Promise<{ couldRead: unknown; image: Image }>;
const READERS: Partial<Record<ImageFormat, NodeReader>> = {
  nifti: niftiReadImageNode,
  nrrd: nrrdReadImageNode,
  metaimage: metaReadImageNode,
};

/** `length` bytes of a file from `position` (fewer at its end). */
async function readBytes(filePath: string, length: number, position = 0): Promise<Uint8Array> {
  const handle = await open(filePath, 'r');
  try {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export interface NodeReadOptions extends ValidationOptions {
  /** For a DICOM folder holding several series: which one to read (default: the only one). */
  seriesInstanceUid?: string;
  /** Told what was corrected or skipped while reading (e.g. a DICOM series' missing slices). */
  onWarning?: (text: string) => void;
}

/**
 * Reads a NIfTI / NRRD / MetaImage file, a DICOM file or a folder of DICOM files.
 * Throws LoadError naming the file and the reason.
 */
export async function readImageNode(filePath: string, options: NodeReadOptions = {}): Promise<Volume> {
  const absolute = path.resolve(filePath);
  const name = path.basename(absolute);
  const info = await stat(absolute).catch((error: unknown) => {
    throw new LoadError(name, 'file not found or not readable', { cause: error });
  });
  if (info.isDirectory()) {
    const entries = await readdir(absolute);
    return readDicomFolderNode(
      entries.map((entry) => path.join(absolute, entry)),
      name,
      options,
    );
  }
  const format = detectFormat(name, await readBytes(absolute, FORMAT_SNIFF_BYTES));
  if (format === 'dicom') return readDicomSeriesNode([absolute], options);
  const reader = READERS[format];
  if (!reader) throw unsupportedFormatError(name);
  await assertReadableFile(name, format, info.size, (start, end) => readBytes(absolute, end - start, start), options);
  let result;
  try {
    result = await reader(absolute);
  } catch (error) {
    throw decodeError(name, format, error);
  }
  if (!result.couldRead) throw unreadableError(name, format);
  return itkImageToVolume(result.image, name, options);
}

async function readDicomFolderNode(filePaths: string[], folderName: string, options: NodeReadOptions): Promise<Volume> {
  const { series, skipped } = await listDicomSeriesNode(filePaths);
  const summary = skippedSummary(skipped);
  if (series.length === 0) throw new LoadError(folderName, `no DICOM image series found in this folder${summary ? ` (${summary})` : ''}`);
  if (summary) options.onWarning?.(summary);
  const chosen = options.seriesInstanceUid
    ? series.find((s) => s.seriesInstanceUid === options.seriesInstanceUid)
    : series.length === 1
      ? series[0]
      : undefined;
  if (!chosen) {
    const list = series.map((s) => `${s.seriesInstanceUid} (${s.description}, ${s.fileCount} files)`).join('; ');
    throw new LoadError(folderName, `several DICOM series found, choose one: ${list}`);
  }
  return readDicomSeriesNode(chosen.files, options);
}

/**
 * DICOM image series among the given files, and how many files of each kind were skipped (not
 * DICOM, objects without an image, segmentations, truncated files).
 */
export async function listDicomSeriesNode(
  filePaths: string[],
): Promise<{ series: DicomSeriesInfo<string>[]; skipped: Map<string, number> }> {
  const entries = [];
  const skipped = new Map<string, number>();
  for (const filePath of filePaths) {
    const absolute = path.resolve(filePath);
    if (!(await stat(absolute)).isFile()) continue;
    const bytes = isDicomPart10(await readBytes(absolute, 132)) ? await readFile(absolute) : null;
    const object = bytes && inspectDicom(bytes);
    if (object?.kind === 'image') entries.push({ file: absolute, key: seriesKey(object.header) });
    else skipped.set(skipKind(object), (skipped.get(skipKind(object)) ?? 0) + 1);
  }
  return { series: groupDicomSeries(entries), skipped };
}

/** Reads the files of one DICOM series as a volume (sorted spatially by itk-wasm). */
export async function readDicomSeriesNode(filePaths: string[], options: NodeReadOptions = {}): Promise<Volume> {
  const absolute = filePaths.map((p) => path.resolve(p));
  const name = absolute.length === 1 ? path.basename(absolute[0]) : `DICOM series in ${path.basename(path.dirname(absolute[0]))}`;
  const files = await Promise.all(absolute.map(async (p) => ({ name: path.basename(p), bytes: await readFile(p) })));
  const decoded = checkDicomSeriesFiles(files, options);
  const headers = decoded.map((d) => d.header);
  let read = await readNativeSeries(files, decoded);
  if (!read) {
    let image: Image;
    try {
      ({ outputImage: image } = await readImageDicomFileSeriesNode({ inputImages: decoded.map((d) => absolute[d.index]) }));
    } catch (error) {
      throw decodeError(name, 'dicom', error);
    }
    read = itkImageToVolume(image, name, options);
  }
  const { volume, warnings } = correctDicomVolume(read, headers, options.maxVoxels);
  for (const warning of warnings) options.onWarning?.(warning);
  return volume;
}

type NodeWriter = (image: Image, filePath: string, options: { useCompression?: boolean }) => Promise<{ couldWrite: unknown }>;
const WRITERS: Partial<Record<ImageFormat, NodeWriter>> = {
  nifti: niftiWriteImageNode,
  nrrd: nrrdWriteImageNode,
  metaimage: metaWriteImageNode,
};

/**
 * Writes a volume as NIfTI (.nii, .nii.gz), NRRD (.nrrd, gzip-encoded) or MetaImage (.mha)
 * chosen by the file name. Creates or overwrites the file.
 */
export async function writeImageNode(volume: Volume, filePath: string): Promise<void> {
  const absolute = path.resolve(filePath);
  const name = path.basename(absolute);
  const writer = WRITERS[formatFromName(name)];
  if (!writer) throw new LoadError(name, 'cannot write this format; use .nii, .nii.gz, .nrrd or .mha');
  const useCompression = !/\.nii$/i.test(name);
  const { couldWrite } = await writer(volumeToItkImage(volume, name), absolute, { useCompression });
  if (!couldWrite) throw new LoadError(name, 'the image could not be written');
}

/**
 * Writes a labelmap on a DICOM series' grid as a DICOM SEG (dcmqi through itk-wasm) referencing
 * the series' files. Creates or overwrites the file.
 */
export async function writeDicomSegNode(
  labelmap: Volume<Uint8Array>,
  metaInfo: DicomSegMetaInfo,
  seriesFiles: string[],
  filePath: string,
): Promise<void> {
  const absolute = path.resolve(filePath);
  await writeSegmentationNode(labelmapToDicomSegImage(labelmap, path.basename(absolute)), metaInfo, absolute, {
    refDicomSeries: seriesFiles.map((p) => path.resolve(p)),
  });
}
