import { readSegmentationNode } from '@itk-wasm/dicom';
import { expect, test } from '@playwright/test';
import type { DicomSegMetaInfo } from '../src/core/export/dicom-seg-meta';
import type { Vec3 } from '../src/core/types';
import { itkImageToVolume } from '../src/io/itk-image';
import { encodeDicomSeries } from '../tests/support/dicom-writer';
import { geometry, makeTestVolume, openFiles, rotatedAboutZ, waitForRenderedVolume } from './app-support';
import { clickVoxel, scanFile, segState } from './segment-support';

/** Screenshots and downloads go to the test's output folder (test-results/). */
const out = (name: string) => test.info().outputPath(name);

test('exports the painted segments of a DICOM series as a DICOM SEG', async ({ page }) => {
  await page.goto('/');
  // A NIfTI scan has no DICOM files to reference.
  await openFiles(page, [scanFile()]);
  await expect(page.getByTestId('export-dicom-seg')).toBeDisabled();

  const g = geometry([48, 40, 10], [1.5, 1.5, 3], rotatedAboutZ(20), [10, -20, 30]);
  const slices = encodeDicomSeries(g, makeTestVolume(g), { seriesDescription: 'Chest CT', modality: 'CT' });
  const files = slices.map((bytes, k) => ({
    name: `IM${String(k + 1).padStart(4, '0')}.dcm`,
    mimeType: 'application/dicom',
    buffer: Buffer.from(bytes),
  }));
  await page.getByTestId('open-files-input').setInputFiles(files);
  await waitForRenderedVolume(page, 'Chest CT');
  await expect(page.getByTestId('export-dicom-seg')).toBeEnabled();

  // Two segments painted with the 2D brush on the middle axial slice; the second one renamed.
  const slice = Math.floor(g.size[2] / 2);
  await page.getByTestId('tool-brush').click();
  await page.getByTestId('brush-radius').fill('6');
  await clickVoxel(page, 'axial', [12, 12, slice] as Vec3);
  await page.getByTestId('add-segment').click();
  await clickVoxel(page, 'axial', [34, 27, slice] as Vec3);
  await page.getByLabel('Name of segment 2').fill('Lesion');
  await page.getByLabel('Name of segment 2').press('Enter');
  await expect
    .poll(async () => (await segState(page)).segments.map((s) => [s.name, s.voxels > 0]))
    .toEqual([
      ['Segment 1', true],
      ['Lesion', true],
    ]);
  const { segments } = await segState(page);
  await page.screenshot({ path: out('dicom-seg-painted.png') });

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-dicom-seg').click()]);
  expect(download.suggestedFilename()).toBe('Chest_CT.seg.dcm');
  const segFile = out('Chest_CT.seg.dcm');
  await download.saveAs(segFile);

  const { segImage, metaInfo } = await readSegmentationNode(segFile);
  const written = (metaInfo as unknown as DicomSegMetaInfo).segmentAttributes.flat();
  expect(written.map((s) => [s.SegmentLabel, s.recommendedDisplayRGBValue, s.SegmentAlgorithmName])).toEqual(
    segments.map((s) => [s.name, s.color, 'SAM-Med3D']),
  );
  const readBack = itkImageToVolume(segImage, segFile);
  expect(readBack.geometry.size).toEqual(g.size);
  for (const key of ['spacing', 'origin', 'direction'] as const) {
    readBack.geometry[key].forEach((value, n) => expect(value).toBeCloseTo(g[key][n], 3));
  }
  const counts = written.map((s) => readBack.data.filter((value) => value === s.labelID).length);
  expect(counts).toEqual(segments.map((s) => s.voxels));
});
