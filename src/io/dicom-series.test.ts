import { describe, expect, it } from 'vitest';
import type { DicomHeader } from './dicom-header';
import { groupDicomSeries, seriesKey, skippedSummary } from './dicom-series';

const header = (extra: Partial<DicomHeader> = {}): DicomHeader => ({
  sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  modality: 'CT',
  seriesInstanceUid: '1.2.3',
  seriesDescription: 'Abdomen 1.0',
  seriesNumber: '4',
  imageType: ['ORIGINAL'],
  rows: 512,
  columns: 256,
  frames: 1,
  position: null,
  framePositions: [],
  orientation: null,
  gantryTilt: 0,
  referencedSeriesUids: [],
  ...extra,
});

describe('DICOM series keys', () => {
  it('reads the series of an image file', () => {
    expect(seriesKey(header())).toEqual({
      seriesInstanceUid: '1.2.3',
      description: 'Abdomen 1.0',
      modality: 'CT',
      rows: 512,
      columns: 256,
    });
  });

  it('names a series without description by its number', () => {
    expect(seriesKey(header({ seriesDescription: '' })).description).toBe('Series 4');
  });

  it('groups files by series in the order first seen', () => {
    const a = seriesKey(header());
    const b = { ...a, seriesInstanceUid: '9.9', description: 'Scout' };
    const grouped = groupDicomSeries([
      { file: 'f1', key: a },
      { file: 'f2', key: b },
      { file: 'f3', key: a },
    ]);
    expect(grouped.map((s) => [s.seriesInstanceUid, s.fileCount, s.files])).toEqual([
      ['1.2.3', 2, ['f1', 'f3']],
      ['9.9', 1, ['f2']],
    ]);
  });

  it('counts skipped files by kind', () => {
    expect(skippedSummary(new Map())).toBeNull();
    expect(
      skippedSummary(
        new Map([
          ['not DICOM', 2],
          ['RT Plan (RTPLAN)', 1],
        ]),
      ),
    ).toBe('3 files skipped: 2 not DICOM, 1 RT Plan (RTPLAN).');
  });
});
