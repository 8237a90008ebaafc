import type { Vec3 } from '../src/core/types';
import { geometry, loadedVolume, makeTestVolume, rotatedAboutZ, waitForRenderedVolume } from './app-support';
import { connectPacs, expect, PACS_ROOT, seriesRow, studyRow, test, uploadSeries } from './pacs-support';
import { clickVoxel, loadOracleModel, SCAN, scanVoxels, segState, settled } from './segment-support';

const out = (name: string) => test.info().outputPath(name);

test('search, open, segment, store as DICOM SEG, reopen and import the SEG back', async ({ page, orthanc, baseURL }) => {
  // Privacy: the page talks to its own origin only (the DICOMweb root /pacs is on it).
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));

  // Study 1: the two-balls scan (oblique, anisotropic) and an axial series: two frames of reference.
  const studyInstanceUid = `2.25.${Date.now()}1`;
  const axial = geometry([48, 40, 10], [1.5, 1.5, 3], undefined, [10, -20, 30]);
  await uploadSeries(orthanc, SCAN.geometry, scanVoxels(), {
    studyInstanceUid,
    seriesDescription: 'Two balls',
    seriesNumber: 2,
    patientName: 'Doe^Jane',
  });
  const axialSeries = await uploadSeries(orthanc, axial, makeTestVolume(axial), {
    studyInstanceUid,
    seriesDescription: 'Axial',
    seriesNumber: 1,
    patientName: 'Doe^Jane',
  });
  // A report among the axial images: skipped and counted when the series opens.
  await orthanc.rest('POST', '/tools/create-dicom', { Tags: { SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.11' }, Parent: axialSeries });
  // Study 2, another patient.
  const other = geometry([32, 32, 4], [1, 1, 1], rotatedAboutZ(30));
  await uploadSeries(orthanc, other, makeTestVolume(other), { seriesDescription: 'Other', patientName: 'Roe^John' });

  await page.goto('/');
  await connectPacs(page);
  await expect(page.getByTestId('pacs-studies').locator('tbody tr')).toHaveCount(2);
  await page.getByTestId('pacs-patientName').fill('Doe*');
  await page.getByTestId('pacs-search').click();
  await expect(page.getByTestId('pacs-studies').locator('tbody tr')).toHaveCount(1);
  await studyRow(page, 'Doe Jane').click();
  await expect(page.getByTestId('pacs-series').locator('tbody tr')).toHaveCount(2);
  await expect(seriesRow(page, 'Axial')).toContainText('11'); // 10 images + the report

  // The axial series: the report is skipped and counted, the geometry is the file's.
  await seriesRow(page, 'Axial').click();
  await waitForRenderedVolume(page, 'Axial');
  await expect(page.getByTestId('pacs-message')).toContainText('1 instance without an image skipped');
  expect((await loadedVolume(page))?.size).toEqual(axial.size);

  // The oblique series, segmented with the oracle model.
  await seriesRow(page, 'Two balls').click();
  await waitForRenderedVolume(page, 'Two balls');
  const volume = await loadedVolume(page);
  expect(volume?.size).toEqual(SCAN.geometry.size);
  volume!.spacing.forEach((v, n) => expect(v).toBeCloseTo(SCAN.geometry.spacing[n], 4));
  volume!.direction.forEach((v, n) => expect(v).toBeCloseTo(SCAN.geometry.direction[n], 4));
  await page.getByRole('button', { name: 'Close the PACS panel' }).click();
  await loadOracleModel(page);
  await page.getByTestId('tool-segment').click();
  await clickVoxel(page, 'axial', SCAN.balls[0].center as Vec3);
  await expect.poll(async () => (await segState(page)).segments[0]?.voxels ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
  const segmented = await settled(page);
  await page.screenshot({ path: out('1-segmented.png') });

  // Store: a new SEG series in the same study.
  await page.getByTestId('open-pacs').click();
  await page.getByTestId('store-seg').click();
  await expect(page.getByTestId('store-result')).toHaveText('Stored the segmentation to the PACS.', { timeout: 60_000 });
  await expect(page.getByTestId('pacs-series').locator('tbody tr')).toHaveCount(3);
  const seg = page.getByTestId('pacs-series').locator('tbody tr[data-segmentation]');
  await expect(seg).toContainText('segmentation');

  // Reopen the study in a fresh page, open the scan (without the autosaved session) and import the SEG.
  await page.goto('/');
  await connectPacs(page);
  await studyRow(page, 'Doe Jane').click();
  await seriesRow(page, 'Two balls').click();
  await waitForRenderedVolume(page, 'Two balls');
  if (await page.getByTestId('restore-prompt').isVisible()) await page.getByTestId('discard-session').click();
  await expect.poll(async () => (await segState(page)).segments.reduce((n, s) => n + s.voxels, 0)).toBe(0);
  await page.getByTestId('pacs-series').locator('tbody tr[data-segmentation]').click();
  await expect(page.getByTestId('pacs-message')).toContainText('Imported the segments');
  const imported = await segState(page);
  expect(imported.checksum).toBe(segmented.checksum);
  expect(imported.segments.map((s) => [s.name, s.color, s.voxels])).toEqual(segmented.segments.map((s) => [s.name, s.color, s.voxels]));
  await page.screenshot({ path: out('2-imported.png') });

  const origins = new Set(requests.map((url) => new URL(url).origin));
  expect([...origins]).toEqual([new URL(baseURL!).origin]);
  expect(requests.some((url) => url.includes(`${PACS_ROOT}/studies`))).toBe(true);
});
