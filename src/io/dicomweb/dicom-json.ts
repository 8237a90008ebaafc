/**
 * What the PACS panel shows from QIDO-RS answers (DICOM JSON, PS3.18 F.2), and the query
 * parameters of a study search. Pure: no network, no DOM.
 */

/** One QIDO-RS result: attributes by 8-digit upper-case hex tag. */
export type DicomJson = Record<string, { vr: string; Value?: unknown[] } | undefined>;

export const TAG = {
  studyDate: '00080020',
  accessionNumber: '00080050',
  modality: '00080060',
  modalitiesInStudy: '00080061',
  sopClassUid: '00080016',
  sopInstanceUid: '00080018',
  studyDescription: '00081030',
  seriesDescription: '0008103E',
  patientName: '00100010',
  patientId: '00100020',
  studyInstanceUid: '0020000D',
  seriesInstanceUid: '0020000E',
  seriesNumber: '00200011',
  instanceNumber: '00200013',
  studyRelatedSeries: '00201206',
  seriesRelatedInstances: '00201209',
  rows: '00280010',
} as const;

/** The first value of an attribute as text (person names in their alphabetic form). */
export function text(item: DicomJson, tag: string): string {
  const value = item[tag]?.Value?.[0];
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return String((value as { Alphabetic?: string }).Alphabetic ?? '');
  return String(value);
}

export function numberOf(item: DicomJson, tag: string): number | null {
  const value = Number(text(item, tag));
  return text(item, tag) !== '' && Number.isFinite(value) ? value : null;
}

const SEG_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

export interface StudySummary {
  studyInstanceUid: string;
  patientName: string;
  patientId: string;
  /** YYYYMMDD as stored (sorts as text). */
  date: string;
  description: string;
  accession: string;
  modalities: string;
  seriesCount: number | null;
}

export interface SeriesSummary {
  seriesInstanceUid: string;
  number: number | null;
  description: string;
  modality: string;
  instances: number | null;
  /** A DICOM Segmentation series: opening it imports its segments onto the open scan. */
  isSegmentation: boolean;
}

export interface InstanceSummary {
  sopInstanceUid: string;
  /** False for objects without pixels (reports, plans, key objects): skipped when opening. */
  isImage: boolean;
}

export function studySummary(item: DicomJson): StudySummary {
  return {
    studyInstanceUid: text(item, TAG.studyInstanceUid),
    patientName: text(item, TAG.patientName).replace(/\^+/g, ' ').trim(),
    patientId: text(item, TAG.patientId),
    date: text(item, TAG.studyDate),
    description: text(item, TAG.studyDescription),
    accession: text(item, TAG.accessionNumber),
    modalities: (item[TAG.modalitiesInStudy]?.Value ?? []).map(String).join(', '),
    seriesCount: numberOf(item, TAG.studyRelatedSeries),
  };
}

export function seriesSummary(item: DicomJson): SeriesSummary {
  const modality = text(item, TAG.modality);
  return {
    seriesInstanceUid: text(item, TAG.seriesInstanceUid),
    number: numberOf(item, TAG.seriesNumber),
    description: text(item, TAG.seriesDescription),
    modality,
    instances: numberOf(item, TAG.seriesRelatedInstances),
    isSegmentation: modality === 'SEG',
  };
}

/**
 * Instances of a series in instance-number order. An instance is an image when the server
 * reports Rows for it; a server that returns no Rows at all (it ignored includefield) gets
 * every instance tried as an image.
 */
export function instanceSummaries(items: DicomJson[]): InstanceSummary[] {
  const rowsKnown = items.some((item) => item[TAG.rows] !== undefined);
  return [...items]
    .sort((a, b) => (numberOf(a, TAG.instanceNumber) ?? 0) - (numberOf(b, TAG.instanceNumber) ?? 0))
    .map((item) => ({
      sopInstanceUid: text(item, TAG.sopInstanceUid),
      isImage: text(item, TAG.sopClassUid) !== SEG_STORAGE && (!rowsKnown || (numberOf(item, TAG.rows) ?? 0) > 0),
    }));
}

/** The search form of the PACS panel. Dates are ISO (yyyy-mm-dd) as date inputs give them. */
export interface StudyQuery {
  patientName?: string;
  patientId?: string;
  dateFrom?: string;
  dateTo?: string;
  modality?: string;
  accession?: string;
}

/** QIDO-RS query parameters of a study search (PS3.18 8.3.4): wildcards pass through. */
export function studyQueryParams(query: StudyQuery): Record<string, string> {
  const params: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    const trimmed = value?.trim();
    if (trimmed) params[key] = trimmed;
  };
  set('PatientName', query.patientName);
  set('PatientID', query.patientId);
  set('ModalitiesInStudy', query.modality?.toUpperCase());
  set('AccessionNumber', query.accession);
  const day = (iso?: string) => iso?.replace(/-/g, '') ?? '';
  if (query.dateFrom || query.dateTo) params.StudyDate = `${day(query.dateFrom)}-${day(query.dateTo)}`;
  params.includefield = [TAG.studyDescription, TAG.modalitiesInStudy, TAG.studyRelatedSeries].join(',');
  return params;
}

/** An OHIF-style deep link: ?dicomweb=ROOT&StudyInstanceUIDs=UID[&SeriesInstanceUIDs=UID]. */
export interface DeepLink {
  root: string;
  studyInstanceUid: string;
  seriesInstanceUid?: string;
}

export function parseDeepLink(search: string): DeepLink | null {
  const params = new URLSearchParams(search);
  const root = params.get('dicomweb')?.trim();
  const study = params.get('StudyInstanceUIDs')?.split(',')[0]?.trim();
  if (!root || !study) return null;
  const series = params.get('SeriesInstanceUIDs')?.split(',')[0]?.trim();
  return { root, studyInstanceUid: study, seriesInstanceUid: series || undefined };
}
