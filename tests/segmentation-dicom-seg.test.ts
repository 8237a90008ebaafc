/**
 * DICOM SEG export: a labelmap painted on a generated DICOM series, written with dcmqi (itk-wasm)
 * against the series' files and read back with itk-wasm's DICOM SEG reader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSegmentationNode } from '@itk-wasm/dicom';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDicomSegMetaInfo, type DicomSegMetaInfo } from '../src/core/export/dicom-seg-meta';
import type { ImageGeometry } from '../src/core/types';
import { Segmentation } from '../src/core/segmentation/segmentation';
import { itkImageToVolume } from '../src/io/itk-image';
import { readDicomSeriesNode, writeDicomSegNode } from '../src/io/node';
import { obliqueLpsVolume, writeTestDicomSeries } from './support/test-files';

const workDir = mkdtempSync(path.join(tmpdir(), 'dicom-seg-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('DICOM SEG export', () => {
  it('writes two painted segments that read back with their labels, voxels and geometry', async () => {
    const source = obliqueLpsVolume({ size: [40, 36, 12], spacing: [3, 3, 8] });
    const seriesFiles = writeTestDicomSeries(path.join(workDir, 'series'), source, { seriesDescription: 'Oblique CT' });
    const scan = await readDicomSeriesNode(seriesFiles);

    const segmentation = new Segmentation(scan.geometry);
    const liver = segmentation.addSegment({ name: 'Liver', color: [221, 130, 101] });
    const lesion = segmentation.addSegment({ name: 'Lesion', color: [0, 255, 12] });
    segmentation.addSegment({ name: 'Never painted' });
    segmentation.beginStroke(liver.label, false);
    segmentation.dab({ center: [12, 14, 5], radiusMm: 10, shape: { kind: 'sphere' } });
    segmentation.endStroke();
    segmentation.beginStroke(lesion.label, false);
    segmentation.dab({ center: [28, 20, 8], radiusMm: 6, shape: { kind: 'disc', normalAxis: 2 } });
    segmentation.endStroke();
    const labels = segmentation.labels;
    const expectedCounts = [liver.label, lesion.label].map((label) => labels.filter((v) => v === label).length);
    expect(Math.min(...expectedCounts)).toBeGreaterThan(0);

    const segFile = path.join(workDir, 'scan.seg.dcm');
    await writeDicomSegNode(
      { geometry: scan.geometry, data: labels },
      buildDicomSegMetaInfo(segmentation.segments, labels),
      seriesFiles,
      segFile,
    );

    const { segImage, metaInfo } = await readSegmentationNode(segFile);
    const written = (metaInfo as unknown as DicomSegMetaInfo).segmentAttributes.flat();
    expect(written.map((s) => [s.SegmentLabel, s.recommendedDisplayRGBValue, s.SegmentAlgorithmType, s.SegmentAlgorithmName])).toEqual([
      ['Liver', [221, 130, 101], 'SEMIAUTOMATIC', 'SAM-Med3D'],
      ['Lesion', [0, 255, 12], 'SEMIAUTOMATIC', 'SAM-Med3D'],
    ]);
    const readBack = itkImageToVolume(segImage, 'scan.seg.dcm');
    expectSameGeometry(readBack.geometry, scan.geometry);
    // The SEG numbers its segments itself: map them back to our labels by name, voxel by voxel.
    const labelOf = new Map(written.map((s) => [s.labelID, s.SegmentLabel === 'Liver' ? liver.label : lesion.label]));
    const remapped = Uint8Array.from(readBack.data, (value) => (value === 0 ? 0 : (labelOf.get(Number(value)) ?? 255)));
    expect([liver.label, lesion.label].map((label) => remapped.filter((v) => v === label).length)).toEqual(expectedCounts);
    expect(remapped).toEqual(labels);
  });
});

function expectSameGeometry(actual: ImageGeometry, expected: ImageGeometry): void {
  expect(actual.size).toEqual(expected.size);
  for (const key of ['spacing', 'origin', 'direction'] as const) {
    actual[key].forEach((value, n) => expect(value).toBeCloseTo(expected[key][n], 3));
  }
}
