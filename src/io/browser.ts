/**
 * Image IO in the browser: itk-wasm pipelines running in its web workers, served by our own
 * build (see scripts/vite-plugin-itk-wasm.ts) so nothing is fetched from a CDN.
 * Every failure is a LoadError naming the file and the reason.
 */
import { setPipelinesBaseUrl, setPipelineWorkerUrl, type BinaryFile, type Image } from 'itk-wasm';
import { metaReadImage, metaWriteImage, niftiReadImage, niftiWriteImage, nrrdReadImage, nrrdWriteImage } from '@itk-wasm/image-io';
import { readImageDicomFileSeries, readSegmentation, writeSegmentation } from '@itk-wasm/dicom';
import { detectFormat, FORMAT_SNIFF_BYTES, formatFromName, isDicomPart10, isGzip, type ImageFormat } from '../core/formats';
import type { DicomSegMetaInfo } from '../core/export/dicom-seg-meta';
import { isShared, plainVoxels, sharedArray, type VoxelArrayType } from '../core/shared-voxels';
import type { Volume } from '../core/types';
import { LoadError, type ValidationOptions } from '../core/validate';
import { yieldToEventLoop } from '../core/yield';
import { readDicomFilesInWorker, type ReadDicomFile } from './dicom-files';
import { inspectDicom, type DicomHeader } from './dicom-header';
import { readNativeSeries } from './dicom-native';
import { checkDicomSeriesFiles, correctDicomVolume, groupDicomSeries, seriesKey, skipKind } from './dicom-series';
import { itkImageToVolume, labelmapToDicomSegImage, volumeToItkImage } from './itk-image';
import { readNiftiInWorker } from './nifti-fast';
import { assertReadableFile } from './preflight';
import { decodeError, unreadableError, unsupportedFormatError } from './read-errors';
import type { DicomSeriesInfo, LoadedImage, ProgressCallback } from './types';

/** Where the build puts itk-wasm's files (kept in sync with scripts/vite-plugin-itk-wasm.ts). */
export const ITK_WASM_ASSET_DIR = 'itk';

let configured = false;

/** Points itk-wasm at the self-hosted pipelines and worker. Idempotent; called by every reader. */
export function configureItkWasm(baseUrl: string = import.meta.env.BASE_URL): void {
  if (configured) return;
  const root = new URL(`${baseUrl.replace(/\/?$/, '/')}${ITK_WASM_ASSET_DIR}/`, globalThis.location.href);
  setPipelinesBaseUrl(new URL('pipelines', root).href);
  setPipelineWorkerUrl(new URL('itk-wasm-pipeline.worker.js', root).href);
  configured = true;
}

/**
 * itk-wasm's workers hand back a view on their own shared memory when the page is cross-origin
 * isolated: copied into a buffer of ours (shared where the platform has it, see sharedArray) in
 * chunks that yield, so the UI never freezes on a large scan.
 */
async function ownCopy(volume: Volume): Promise<Volume> {
  const source = volume.data;
  if (!isShared(source)) return volume;
  const copy = sharedArray(source.constructor as VoxelArrayType, source.length);
  const chunk = 1 << 22;
  for (let start = 0; start < source.length; start += chunk) {
    copy.set(source.subarray(start, start + chunk), start);
    await yieldToEventLoop();
  }
  return { geometry: volume.geometry, data: copy };
}

type BrowserReader = (file: BinaryFile, options: { noCopy: boolean }) => Promise<{ couldRead: unknown; image: Image }>;
const READERS: Partial<Record<ImageFormat, BrowserReader>> = {
  nifti: niftiReadImage,
  nrrd: nrrdReadImage,
  metaimage: metaReadImage,
};

async function fileBytes(file: File, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}

/** Format of a file from its name and first bytes. */
export async function sniffFormat(file: File): Promise<ImageFormat> {
  return detectFormat(file.name, await fileBytes(file, 0, FORMAT_SNIFF_BYTES));
}

/**
 * Reads one NIfTI / NRRD / MetaImage file (or a single DICOM file).
 * Detached-header formats (.nhdr, .mhd) need their data inside the same file.
 */
export async function readImageFile(file: File, onProgress?: ProgressCallback, options: ValidationOptions = {}): Promise<LoadedImage> {
  configureItkWasm();
  const format = await sniffFormat(file);
  if (format === 'dicom') return readDicomSeries([file], onProgress, options);
  const reader = READERS[format];
  if (!reader) throw unsupportedFormatError(file.name);
  await assertReadableFile(file.name, format, file.size, (start, end) => fileBytes(file, start, end), options);
  if (format === 'nifti') {
    const gzipped = isGzip(await fileBytes(file, 0, 2));
    const volume = await readNiftiInWorker(file, gzipped, onProgress, options);
    if (volume) return { volume, name: file.name };
  }
  const data = new Uint8Array(await file.arrayBuffer());
  onProgress?.({ phase: 'reading', fraction: 1 });
  onProgress?.({ phase: 'decoding' });
  let result;
  try {
    result = await reader({ path: file.name, data }, { noCopy: true });
  } catch (error) {
    throw decodeError(file.name, format, error);
  }
  if (!result.couldRead) throw unreadableError(file.name, format);
  onProgress?.({ phase: 'converting' });
  return { volume: await ownCopy(itkImageToVolume(result.image, file.name, options)), name: file.name };
}

/**
 * DICOM image series among the files (e.g. a picked folder), in the order first seen, and how
 * many files of each kind were skipped (not DICOM, objects without an image, segmentations,
 * truncated files).
 */
export async function listDicomSeries(
  files: File[],
  onProgress?: ProgressCallback,
): Promise<{ series: DicomSeriesInfo[]; skipped: Map<string, number> }> {
  const entries: { file: File; key: ReturnType<typeof seriesKey> }[] = [];
  const skipped = new Map<string, number>();
  const read = await readDicomFiles(files, onProgress);
  read.forEach(({ object }, index) => {
    if (object?.kind === 'image') entries.push({ file: files[index], key: seriesKey(object.header) });
    else skipped.set(skipKind(object), (skipped.get(skipKind(object)) ?? 0) + 1);
  });
  const series = groupDicomSeries(entries);
  // The one series is read next: its files are not read and parsed a second time.
  readAhead.clear();
  if (series.length === 1) files.forEach((file, index) => read[index].object?.kind === 'image' && readAhead.set(file, read[index]));
  return { series, skipped };
}

/** Files listDicomSeries read for the series it found alone, for readDicomSeries to take. */
const readAhead = new Map<File, ReadDicomFile>();

/** The files' bytes and headers: read ahead by listDicomSeries, or read now in a worker. */
async function readDicomFiles(files: File[], onProgress?: ProgressCallback): Promise<ReadDicomFile[]> {
  const results: ReadDicomFile[] = files.map((file) => readAhead.get(file)!);
  const toRead = files.flatMap((file, index) => (readAhead.has(file) ? [] : [index]));
  files.forEach((file) => readAhead.delete(file));
  let done = files.length - toRead.length;
  if (done > 0) onProgress?.({ phase: 'reading', fraction: done / files.length });
  await readDicomFilesInWorker(
    toRead.map((index) => files[index]),
    (n, file) => {
      results[toRead[n]] = file;
      onProgress?.({ phase: 'reading', fraction: ++done / files.length });
    },
  );
  return results;
}

/**
 * itk-wasm's browser DICOM decoder never settles on some damaged files that its Node build
 * refuses at once (found by the loader fuzzer): a generous deadline, growing with the data,
 * turns that into a message instead of a load that never ends.
 */
const DECODER_DEADLINE_MS = 30_000;
const DECODER_MS_PER_MB = 2_000;

function withDeadline<T>(task: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([task, deadline]).finally(() => clearTimeout(timer));
}

/** A file's bytes under a unique virtual path: folders often reuse names such as IM0001 in sub-folders. */
async function uniquelyNamed(file: File, index: number, bytes: Uint8Array | null = null): Promise<BinaryFile> {
  return { path: `${index}-${file.name}`, data: bytes ?? new Uint8Array(await file.arrayBuffer()) };
}

/**
 * Reads the files of one DICOM series (uncompressed ones directly, readNativeSeries; others with
 * itk-wasm, which sorts the slices spatially). Truncated files, mosaics and objects without an
 * image are refused by name; missing slices and gantry tilt are resampled, with a warning.
 */
export async function readDicomSeries(files: File[], onProgress?: ProgressCallback, options: ValidationOptions = {}): Promise<LoadedImage> {
  configureItkWasm();
  const fallbackName = files.length === 1 ? files[0].name : `DICOM series (${files.length} files)`;
  if (files.length === 0) throw new LoadError(fallbackName, 'no DICOM files given');
  const picked = await readDicomFiles(files, onProgress);
  // Files without the Part 10 preamble are left to ITK (bare datasets of old archives).
  const inputImages = await Promise.all(files.map((file, index) => uniquelyNamed(file, index, picked[index].bytes)));
  const named = files.map((file, n) => ({ name: file.name, bytes: inputImages[n].data }));
  const objects = picked.map(({ object }, n) => object ?? inspectDicom(named[n].bytes));
  const decoded = checkDicomSeriesFiles(named, options, objects);
  // The series image carries no tags: name and modality come from the first image's header.
  const first = decoded.find((d) => d.header)?.header;
  const name = first ? seriesKey(first).description : fallbackName;
  // A refused single file is named as the user picked it (as in Node); a series by its description.
  const errorName = files.length === 1 ? files[0].name : name;
  onProgress?.({ phase: 'decoding' });
  const headers = decoded.map((d) => d.header);
  const read = await readNativeSeries(named, decoded);
  const { volume, warnings } = correctDicomVolume(
    read ??
      (await decodeDicomSeries(
        decoded.map((d) => inputImages[d.index]),
        { name, errorName },
        options,
      )),
    headers,
    options.maxVoxels,
  );
  // A DICOM SEG export references the series' slices: not possible once they were resampled.
  const dicomFiles = warnings.length === 0 ? decoded.map((d) => files[d.index]) : undefined;
  return { volume, name, modality: first?.modality || undefined, dicomFiles, warnings };
}

/** A series decoded by ITK (compressed, multi-frame, colour...: what readNativeSeries leaves to it). */
async function decodeDicomSeries(
  inputImages: BinaryFile[],
  { name, errorName }: { name: string; errorName: string },
  options: ValidationOptions,
): Promise<Volume> {
  let image: Image;
  const bytes = inputImages.reduce((n, file) => n + file.data.length, 0);
  try {
    const result = await withDeadline(
      readImageDicomFileSeries({ inputImages }),
      DECODER_DEADLINE_MS + (bytes / 1e6) * DECODER_MS_PER_MB,
      () => new LoadError(errorName, 'the DICOM decoder stopped answering: the data is damaged in a way it cannot report'),
    );
    result.webWorkerPool?.terminateWorkers();
    image = result.outputImage;
  } catch (error) {
    throw decodeError(errorName, 'dicom', error);
  }
  return ownCopy(itkImageToVolume(image, name, options));
}

/** Whether a file is a DICOM SEG (read from its header). */
export async function isDicomSegFile(file: File): Promise<boolean> {
  if (!isDicomPart10(await fileBytes(file, 0, 132))) return false;
  return inspectDicom(new Uint8Array(await file.arrayBuffer())).kind === 'segmentation';
}

/** The series a DICOM file belongs to (its header's SeriesInstanceUID), or null. */
export async function dicomSeriesUid(file: File): Promise<string | null> {
  const object = inspectDicom(new Uint8Array(await file.arrayBuffer()));
  return 'header' in object ? object.header.seriesInstanceUid || null : null;
}

/** Decodes a DICOM SEG (dcmqi through itk-wasm): its header, labelmap on its frames' grid, and segment descriptions. */
export async function readDicomSeg(file: File): Promise<{ header: DicomHeader; labels: Volume; metaInfo: unknown }> {
  configureItkWasm();
  const bytes = new Uint8Array(await file.arrayBuffer());
  const object = inspectDicom(bytes);
  if (object.kind !== 'segmentation') throw new LoadError(file.name, 'not a DICOM SEG');
  try {
    const { segImage, metaInfo, webWorker } = await readSegmentation({ path: file.name, data: bytes });
    webWorker.terminate();
    return { header: object.header, labels: itkImageToVolume(segImage, file.name, { maxVoxels: Infinity }), metaInfo };
  } catch (error) {
    throw decodeError(file.name, 'dicom', error);
  }
}

type BrowserWriter = (
  image: Image,
  fileName: string,
  options: { useCompression?: boolean },
) => Promise<{ couldWrite: unknown; serializedImage: BinaryFile }>;
const WRITERS: Partial<Record<ImageFormat, BrowserWriter>> = {
  nifti: niftiWriteImage,
  nrrd: nrrdWriteImage,
  metaimage: metaWriteImage,
};

/** Encodes a volume as NIfTI (.nii, .nii.gz), NRRD (.nrrd, gzip-encoded) or MetaImage (.mha) by file name. */
export async function writeImageFile(volume: Volume, fileName: string): Promise<Uint8Array> {
  configureItkWasm();
  const writer = WRITERS[formatFromName(fileName)];
  if (!writer) throw new LoadError(fileName, 'cannot write this format; use .nii, .nii.gz, .nrrd or .mha');
  // The writer takes ownership of the buffer it is given: hand it a copy.
  const copy = { ...volume, data: volume.data.slice() };
  const useCompression = !/\.nii$/i.test(fileName);
  const result = await writer(volumeToItkImage(copy, fileName), fileName, { useCompression });
  if (!result.couldWrite) throw new LoadError(fileName, 'the image could not be written');
  return plainVoxels(result.serializedImage.data);
}

/**
 * Encodes a labelmap on a DICOM series' grid as a DICOM SEG (dcmqi through itk-wasm) that
 * references the series' files.
 */
export async function writeDicomSeg(
  labelmap: Volume<Uint8Array>,
  metaInfo: DicomSegMetaInfo,
  seriesFiles: File[],
  fileName: string,
): Promise<Uint8Array> {
  configureItkWasm();
  const refDicomSeries = await Promise.all(seriesFiles.map((file, index) => uniquelyNamed(file, index)));
  try {
    const { outputDicomFile } = await writeSegmentation(labelmapToDicomSegImage(labelmap, fileName), metaInfo, fileName, {
      refDicomSeries,
    });
    return plainVoxels(outputDicomFile.data);
  } catch (error) {
    throw new Error(`The DICOM SEG could not be written: ${error instanceof Error ? error.message : String(error)}`);
  }
}
