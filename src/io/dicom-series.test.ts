import { describe, expect, it } from 'vitest';
import { groupDicomSeries, seriesKeyFromTags } from './dicom-series';

const tags = (extra: [string, string][] = []): [string, string][] => [
  ['0008|0016', '1.2.840.10008.5.1.4.1.1.2'],
  ['0008|0060', 'CT'],
  ['0008|103E', 'Abdomen 1.0 '],
  ['0020|000e', '1.2.3\0'],
  ['0020|0011', '4'],
  ['0028|0010', '512'],
  ['0028|0011', '256'],
  ...extra,
];

describe('DICOM series keys', () => {
  it('reads the series of an image file, trimming padding', () => {
    expect(seriesKeyFromTags(tags())).toEqual({ seriesInstanceUid: '1.2.3', description: 'Abdomen 1.0', modality: 'CT', rows: 512, columns: 256 });
  });

  it('names a series without description by its number', () => {
    expect(seriesKeyFromTags(tags().filter(([t]) => t !== '0008|103E'))?.description).toBe('Series 4');
  });

  it('skips DICOMDIRs and objects without pixels or series', () => {
    expect(seriesKeyFromTags(tags().map(([t, v]) => [t, t === '0008|0016' ? '1.2.840.10008.1.3.10' : v]))).toBeNull();
    expect(seriesKeyFromTags(tags().filter(([t]) => t !== '0028|0010'))).toBeNull();
    expect(seriesKeyFromTags(tags().filter(([t]) => t !== '0020|000e'))).toBeNull();
  });

  it('groups files by series in the order first seen', () => {
    const a = seriesKeyFromTags(tags())!;
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
});
