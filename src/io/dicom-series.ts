/** Grouping DICOM files into series from their tags (shared by the browser and Node readers). */
import type { DicomSeriesInfo } from './types';

/** Tags read from each file to list series (itk-wasm's "group|element" lower-case hex form). */
export const SERIES_TAGS = {
  sopClassUid: '0008|0016',
  modality: '0008|0060',
  seriesDescription: '0008|103e',
  seriesInstanceUid: '0020|000e',
  seriesNumber: '0020|0011',
  rows: '0028|0010',
  columns: '0028|0011',
} as const;

export const SERIES_TAGS_TO_READ = { tags: Object.values(SERIES_TAGS) };

/** Media storage directory (DICOMDIR): has a DICM header but no image. */
const DICOMDIR_SOP_CLASS = '1.2.840.10008.1.3.10';

interface SeriesKey {
  seriesInstanceUid: string;
  description: string;
  modality: string;
  rows: number;
  columns: number;
}

/** The series a file belongs to, or null when it is not an image (no series UID or no pixels). */
export function seriesKeyFromTags(tags: Iterable<[string, string]>): SeriesKey | null {
  const map = new Map<string, string>();
  for (const [tag, value] of tags) map.set(tag.toLowerCase(), value.replace(/\0/g, '').trim());
  const uid = map.get(SERIES_TAGS.seriesInstanceUid);
  const rows = Number(map.get(SERIES_TAGS.rows));
  const columns = Number(map.get(SERIES_TAGS.columns));
  if (!uid || map.get(SERIES_TAGS.sopClassUid) === DICOMDIR_SOP_CLASS || !(rows > 0) || !(columns > 0)) return null;
  const number = map.get(SERIES_TAGS.seriesNumber);
  const description = map.get(SERIES_TAGS.seriesDescription) || (number ? `Series ${number}` : 'Unnamed series');
  return { seriesInstanceUid: uid, description, modality: map.get(SERIES_TAGS.modality) || '', rows, columns };
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
