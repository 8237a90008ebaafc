import { describe, expect, it } from 'vitest';
import { normalizeRoot } from './client';
import { instanceSummaries, parseDeepLink, seriesSummary, studyQueryParams, studySummary, type DicomJson } from './dicom-json';

describe('DICOMweb query and answers', () => {
  it('builds QIDO-RS study search parameters, wildcards kept and dates as a DICOM range', () => {
    expect(studyQueryParams({ patientName: ' Doe* ', patientId: '', dateFrom: '2024-01-02', modality: 'ct', accession: 'A1' })).toEqual({
      PatientName: 'Doe*',
      ModalitiesInStudy: 'CT',
      AccessionNumber: 'A1',
      StudyDate: '20240102-',
      includefield: '00081030,00080061,00201206',
    });
    expect(studyQueryParams({ dateTo: '2024-12-31' }).StudyDate).toBe('-20241231');
  });

  it('reads studies and series from DICOM JSON, person names and SEG series included', () => {
    const study: DicomJson = {
      '0020000D': { vr: 'UI', Value: ['1.2.3'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
      '00080061': { vr: 'CS', Value: ['CT', 'SEG'] },
      '00201206': { vr: 'IS', Value: [3] },
    };
    expect(studySummary(study)).toMatchObject({
      studyInstanceUid: '1.2.3',
      patientName: 'Doe Jane',
      modalities: 'CT, SEG',
      seriesCount: 3,
      date: '',
    });
    const seg = seriesSummary({ '00080060': { vr: 'CS', Value: ['SEG'] }, '00200011': { vr: 'IS', Value: [300] } });
    expect(seg).toMatchObject({ isSegmentation: true, number: 300, instances: null });
  });

  it('marks instances without Rows as non-images, unless the server reports no Rows at all', () => {
    const instance = (uid: string, number: number, rows?: number): DicomJson => ({
      '00080018': { vr: 'UI', Value: [uid] },
      '00200013': { vr: 'IS', Value: [number] },
      ...(rows === undefined ? {} : { '00280010': { vr: 'US', Value: [rows] } }),
    });
    expect(instanceSummaries([instance('b', 2, 64), instance('sr', 3), instance('a', 1, 64)])).toEqual([
      { sopInstanceUid: 'a', isImage: true },
      { sopInstanceUid: 'b', isImage: true },
      { sopInstanceUid: 'sr', isImage: false },
    ]);
    expect(instanceSummaries([instance('a', 1)]).map((i) => i.isImage)).toEqual([true]);
  });

  it('parses OHIF-style deep links', () => {
    expect(parseDeepLink('?dicomweb=/pacs&StudyInstanceUIDs=1.2&SeriesInstanceUIDs=1.2.3')).toEqual({
      root: '/pacs',
      studyInstanceUid: '1.2',
      seriesInstanceUid: '1.2.3',
    });
    expect(parseDeepLink('?dicomweb=/pacs&StudyInstanceUIDs=1.2')).toEqual({
      root: '/pacs',
      studyInstanceUid: '1.2',
      seriesInstanceUid: undefined,
    });
    expect(parseDeepLink('?StudyInstanceUIDs=1.2')).toBeNull();
  });

  it('resolves the root on the app origin and refuses a credential in the URL', () => {
    expect(normalizeRoot('/pacs/', 'http://localhost:4173/app?x=1')).toBe('http://localhost:4173/pacs');
    expect(() => normalizeRoot('http://user:secret@pacs.example/dicom-web', 'http://localhost/')).toThrow(/credential fields/);
    expect(() => normalizeRoot('ftp://pacs.example', 'http://localhost/')).toThrow(/http/);
  });
});
