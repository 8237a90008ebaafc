/**
 * DICOM files into series, the checks around ITK's decoding of a series, and what is skipped
 * (shared by the browser and Node readers, and usable on any bytes, e.g. DICOMweb).
 */
import { correctSliceStack } from '../core/slice-stack';
import type { Vec3, Volume } from '../core/types';
import { DEFAULT_MAX_VOXELS, LoadError, voxelCountProblem, type ValidationOptions } from '../core/validate';
import { inspectDicom, notAnImageReason, type DicomHeader, type DicomObject } from './dicom-header';
import type { DicomSeriesInfo } from './types';

interface SeriesKey {
  seriesInstanceUid: string;
  description: string;
  modality: string;
  rows: number;
  columns: number;
}

/** The series of an image file. */
export function seriesKey(header: DicomHeader): SeriesKey {
  const number = header.seriesNumber;
  const description = header.seriesDescription || (number ? `Series ${number}` : 'Unnamed series');
  // Files without a series UID (old or hand-made ones) are kept together as one series.
  const uid = header.seriesInstanceUid || 'no series UID';
  return { seriesInstanceUid: uid, description, modality: header.modality, rows: header.rows, columns: header.columns };
}

/** Groups files by series UID, keeping the order in which series were first seen. */
export function groupDicomSeries<F>(entries: { file: F; key: SeriesKey }[]): DicomSeriesInfo<F>[] {
  const series = new Map<string, DicomSeriesInfo<F>>();
  for (const { file, key } of entries) {
    let info = series.get(key.seriesInstanceUid);
    if (!info) {
      info = { ...key, fileCount: 0, files: [] };
      series.set(key.seriesInstanceUid, info);
    }
    info.files.push(file);
    info.fileCount++;
  }
  return [...series.values()];
}

/** Why a file was skipped while listing a folder (counted per kind for the user). */
export function skipKind(object: DicomObject | null): string {
  if (!object) return 'not DICOM';
  if (object.kind === 'no-image') return object.label;
  if (object.kind === 'segmentation') return 'DICOM SEG (import it with "Import labelmap")';
  if (object.kind === 'unusable') {
    if (object.reason.startsWith('the file is truncated')) return 'truncated';
    return object.reason.startsWith('it is a Siemens mosaic') ? 'Siemens mosaic' : 'invalid header';
  }
  return 'unreadable DICOM';
}

/** "3 files skipped: 2 not DICOM, 1 an RT Plan (modality RTPLAN)", or null when none were. */
export function skippedSummary(skipped: Map<string, number>): string | null {
  const total = [...skipped.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const parts = [...skipped].map(([kind, count]) => `${count} ${kind}`);
  return `${total} file${total === 1 ? '' : 's'} skipped: ${parts.join(', ')}.`;
}

/** A file of a series with its bytes (named for messages). */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/**
 * Checks the files of one series before ITK decodes them (ITK zero-fills truncated pixel data,
 * shows a mosaic as one slice and stacks the volumes of a 4D series as slices). Throws a
 * LoadError naming the file for a file that must be refused, naming the series (or its one file)
 * for a series too large or 4D, or when no file holds an image (`objects`: their inspectDicom
 * results, when the caller has them already). Returns the files to decode (by index) with their
 * headers; objects without an image are left out, files our parser cannot read are left to ITK
 * (their header is null).
 */
export function checkDicomSeriesFiles(
  files: NamedBytes[],
  options: ValidationOptions = {},
  objects: DicomObject[] = files.map((file) => inspectDicom(file.bytes)),
): { index: number; header: DicomHeader | null }[] {
  for (const [n, object] of objects.entries()) {
    if (object.kind === 'unusable') throw new LoadError(files[n].name, object.reason);
  }
  if (!objects.some((o) => o.kind === 'image' || o.kind === 'unknown')) {
    throw new LoadError(files[0].name, notAnImageReason(objects[0]) ?? 'no DICOM image found');
  }
  // ITK allocates the whole series before we see it: check its size from the headers first.
  const images = objects.flatMap((o) => (o.kind === 'image' ? [o.header] : []));
  if (images.length > 0) {
    const slices = images.reduce((n, h) => n + h.frames, 0);
    const problem = voxelCountProblem([images[0].columns, images[0].rows, slices], options) ?? repeatedPositionsProblem(images);
    if (problem) throw new LoadError(files.length === 1 ? files[0].name : `DICOM series (${files.length} files)`, problem);
  }
  const decoded: { index: number; header: DicomHeader | null }[] = [];
  objects.forEach((o, index) => {
    if (o.kind === 'image' || o.kind === 'unknown') decoded.push({ index, header: o.kind === 'image' ? o.header : null });
  });
  return decoded;
}

/**
 * Why the slices of a series (frames included) cannot be one volume because several lie at the
 * same position, or null. A 4D series (time points, diffusion directions, echoes) repeats every
 * position: ITK stacks all its images as if they were slices, or fails on several multi-frame
 * files, and neither is the anatomy. Positions equal to 0.01 mm count as one.
 */
function repeatedPositionsProblem(headers: DicomHeader[]): string | null {
  if (!headers.every((h) => h.framePositions.length === h.frames)) return null;
  const counts = new Map<string, number>();
  for (const position of headers.flatMap((h) => h.framePositions)) {
    const key = position.map((v) => Math.round(v * 100)).join();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const slices = headers.reduce((n, h) => n + h.frames, 0);
  if (counts.size === slices) return null;
  const repeats = new Set(counts.values());
  const what =
    repeats.size === 1
      ? `it holds ${[...repeats][0]} volumes at the same ${counts.size} slice positions (a 4D series: time points, diffusion directions or echoes)`
      : `${slices - counts.size} of its ${slices} slices lie at the position of another slice (mixed acquisitions or an incomplete 4D series)`;
  return `${what}; only single 3D volumes are supported`;
}

/**
 * A decoded series checked against its files' slice positions: missing slices and gantry tilt
 * are resampled onto a regular grid, with a warning saying so.
 */
export function correctDicomVolume(volume: Volume, headers: (DicomHeader | null)[], maxVoxels = DEFAULT_MAX_VOXELS) {
  const positions = headers.map((h) => h?.position);
  // Multi-frame files hold their own slice positions; ITK reads them (enhanced functional groups).
  if (headers.some((h) => !h || h.frames > 1) || positions.some((p) => !p)) return { volume, warnings: [] };
  return correctSliceStack(volume, positions as Vec3[], { maxVoxels });
}
