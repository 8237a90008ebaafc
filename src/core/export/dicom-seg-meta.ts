/**
 * Meta-information of a DICOM SEG in dcmqi's JSON format (what itk-wasm's writeSegmentation
 * takes): one segment attribute per non-empty labelmap segment, with its name and colour.
 * Plain type aliases (not interfaces) so they pass as itk-wasm's JsonCompatible.
 * Schema: https://github.com/QIICR/dcmqi/blob/master/doc/schemas/seg-schema.json
 */
import type { Segment } from '../segmentation/segments';

/** A coded concept (DICOM Code Sequence item) as dcmqi spells it. */
export type DicomCode = {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
};

export type DicomSegmentAttributes = {
  labelID: number;
  SegmentLabel: string;
  SegmentDescription: string;
  SegmentAlgorithmType: 'AUTOMATIC' | 'SEMIAUTOMATIC' | 'MANUAL';
  SegmentAlgorithmName: string;
  SegmentedPropertyCategoryCodeSequence: DicomCode;
  SegmentedPropertyTypeCodeSequence: DicomCode;
  recommendedDisplayRGBValue: [number, number, number];
};

export type DicomSegMetaInfo = {
  ContentCreatorName: string;
  ContentLabel: string;
  ContentDescription: string;
  SeriesDescription: string;
  SeriesNumber: string;
  InstanceNumber: string;
  ClinicalTrialSeriesID: string;
  ClinicalTrialTimePointID: string;
  ClinicalTrialCoordinatingCenterName: string;
  BodyPartExamined: string;
  /** One list per labelmap file; we write a single labelmap. */
  segmentAttributes: DicomSegmentAttributes[][];
};

export const SEGMENT_ALGORITHM_NAME = 'SAM-Med3D';

/** Generic SNOMED CT pair for segments we know nothing more about: "Tissue" / "Anatomical structure". */
export const GENERIC_CATEGORY: DicomCode = { CodeValue: '85756007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Tissue' };
export const GENERIC_TYPE: DicomCode = { CodeValue: '91723000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' };

/** Voxel count per label value (index 0..255). */
export function labelVoxelCounts(labels: Uint8Array): Uint32Array {
  const counts = new Uint32Array(256);
  for (let n = 0; n < labels.length; n++) counts[labels[n]]++;
  return counts;
}

/**
 * dcmqi's metaInfo for the segments that own at least one voxel of `labels`, in label order.
 * Throws when there is none: a DICOM SEG must hold a segment.
 */
export function buildDicomSegMetaInfo(
  segments: readonly Segment[],
  labels: Uint8Array,
  seriesDescription = 'SAM-Med3D segmentation',
): DicomSegMetaInfo {
  const counts = labelVoxelCounts(labels);
  const painted = [...segments].filter((s) => s.label > 0 && counts[s.label] > 0).sort((a, b) => a.label - b.label);
  if (painted.length === 0) throw new Error('Nothing to export: every segment is empty.');
  return {
    ContentCreatorName: 'SAM-Med3D Web',
    ContentLabel: 'SEGMENTATION',
    ContentDescription: 'Segmentation made with SAM-Med3D Web',
    SeriesDescription: seriesDescription,
    SeriesNumber: '300',
    InstanceNumber: '1',
    ClinicalTrialSeriesID: 'Session1',
    ClinicalTrialTimePointID: '1',
    ClinicalTrialCoordinatingCenterName: 'SAM-Med3D Web',
    BodyPartExamined: '',
    segmentAttributes: [
      painted.map((segment) => ({
        labelID: segment.label,
        SegmentLabel: segment.name.slice(0, 64), // LO: at most 64 characters
        SegmentDescription: segment.name,
        SegmentAlgorithmType: 'SEMIAUTOMATIC',
        SegmentAlgorithmName: SEGMENT_ALGORITHM_NAME,
        SegmentedPropertyCategoryCodeSequence: GENERIC_CATEGORY,
        SegmentedPropertyTypeCodeSequence: GENERIC_TYPE,
        recommendedDisplayRGBValue: [...segment.color],
      })),
    ],
  };
}
