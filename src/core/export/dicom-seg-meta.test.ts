import { describe, expect, it } from 'vitest';
import type { Segment } from '../segmentation/segments';
import { buildDicomSegMetaInfo, GENERIC_CATEGORY, GENERIC_TYPE } from './dicom-seg-meta';

const segment = (label: number, name: string, color: Segment['color']): Segment => ({ label, name, color, visible: true, points: [] });

describe('buildDicomSegMetaInfo', () => {
  const segments = [segment(3, 'Lesion', [0, 255, 12]), segment(1, 'Liver', [221, 130, 101]), segment(2, 'Empty', [1, 2, 3])];

  it('describes every non-empty segment in label order, with its name, colour and the algorithm', () => {
    const meta = buildDicomSegMetaInfo(segments, Uint8Array.from([0, 3, 1, 1, 0, 3]));
    expect(meta.segmentAttributes).toEqual([
      [
        {
          labelID: 1,
          SegmentLabel: 'Liver',
          SegmentDescription: 'Liver',
          SegmentAlgorithmType: 'SEMIAUTOMATIC',
          SegmentAlgorithmName: 'SAM-Med3D',
          SegmentedPropertyCategoryCodeSequence: GENERIC_CATEGORY,
          SegmentedPropertyTypeCodeSequence: GENERIC_TYPE,
          recommendedDisplayRGBValue: [221, 130, 101],
        },
        expect.objectContaining({ labelID: 3, SegmentLabel: 'Lesion', recommendedDisplayRGBValue: [0, 255, 12] }),
      ],
    ]);
    expect(meta.ContentLabel).toMatch(/^[A-Z0-9_ ]{1,16}$/); // CS value
  });

  it('cuts names to the 64 characters DICOM allows in a segment label', () => {
    const meta = buildDicomSegMetaInfo([segment(1, 'x'.repeat(80), [1, 2, 3])], Uint8Array.from([1]));
    expect(meta.segmentAttributes[0][0].SegmentLabel).toHaveLength(64);
  });

  it('refuses a labelmap without painted segments', () => {
    expect(() => buildDicomSegMetaInfo(segments, new Uint8Array(4))).toThrow(/every segment is empty/);
  });
});
