import path from 'node:path';
import { expect, test } from '@playwright/test';
import { encodeDicomSeries } from '../tests/support/dicom-writer';
import { writeBadFiles, writeMixedDicomFolder } from '../tests/support/test-files';
import {
  geometry,
  loadedVolume,
  makeTestVolume,
  niftiFile,
  nrrdFile,
  openFiles,
  pixelStats,
  rotatedAboutZ,
  saveScreenshot,
  waitForRenderedVolume,
} from './app-support';

test.beforeEach(async ({ page }) => {
  await page.goto('/');
});

test('loads a NIfTI file through the file input', async ({ page }) => {
  await openFiles(page, [niftiFile('head.nii.gz', geometry([48, 40, 24], [0.8, 0.8, 3], rotatedAboutZ(10), [-20, 30, 5]), true)]);
  const volume = await loadedVolume(page);
  expect(volume).toMatchObject({ name: 'head.nii.gz', size: [48, 40, 24] });
  volume!.spacing.forEach((s, a) => expect(s).toBeCloseTo([0.8, 0.8, 3][a], 5));
  await expect(page.getByTestId('image-info')).toContainText('48 × 40 × 24');
});

test('loads an NRRD file through the file input', async ({ page }) => {
  await openFiles(page, [nrrdFile('knee.nrrd', geometry([40, 50, 20], [0.5, 0.6, 2]))]);
  expect(await loadedVolume(page)).toMatchObject({ name: 'knee.nrrd', size: [40, 50, 20], spacing: [0.5, 0.6, 2] });
  expect((await pixelStats(page, page.getByTestId('canvas-coronal'))).std).toBeGreaterThan(10);
});

test('works offline: nothing but the app origin is requested', async ({ page, baseURL }) => {
  const appOrigin = new URL(baseURL!).origin;
  const blocked: string[] = [];
  await page.route('**', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === appOrigin) return route.continue();
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  await page.goto('/');
  await openFiles(page, [niftiFile('offline.nii.gz', geometry([32, 32, 16], [1, 1, 1]), true)]);
  expect(await loadedVolume(page)).toMatchObject({ name: 'offline.nii.gz' });
  expect(blocked).toEqual([]);
});

test('every kind of bad input names its file and reason, and the volume on screen stays', async ({ page }) => {
  await openFiles(page, [niftiFile('good.nii', geometry([32, 32, 16], [1, 1, 1]))]);
  const before = await loadedVolume(page);
  const badFiles = writeBadFiles(test.info().outputPath('bad-files'));
  for (const [n, bad] of badFiles.entries()) {
    await page.getByTestId('open-files-input').setInputFiles(bad.path);
    const notice = page.getByTestId('notice').filter({ hasText: path.basename(bad.path) });
    await expect(notice, bad.case).toContainText(bad.message);
    expect(await loadedVolume(page), bad.case).toEqual(before);
    if (n < badFiles.length - 1) await notice.getByRole('button', { name: 'Dismiss' }).click();
  }
  expect((await pixelStats(page, page.getByTestId('canvas-axial'))).std).toBeGreaterThan(10);
  await saveScreenshot(page, 'app-bad-file.png');
});

test('loads a DICOM series picked as files (written by tests/support/dicom-writer)', async ({ page }) => {
  const g = geometry([40, 36, 12], [0.7, 0.7, 3], rotatedAboutZ(20), [10, -20, 30]);
  const slices = encodeDicomSeries(g, makeTestVolume(g), { seriesDescription: 'Chest CT', modality: 'CT' });
  const files = slices.map((bytes, k) => ({
    name: `IM${String(k + 1).padStart(4, '0')}.dcm`,
    mimeType: 'application/dicom',
    buffer: Buffer.from(bytes),
  }));
  await page.getByTestId('open-files-input').setInputFiles(files);
  await waitForRenderedVolume(page, 'Chest CT');
  const volume = await loadedVolume(page);
  expect(volume).toMatchObject({ name: 'Chest CT', size: [40, 36, 12] });
  volume!.spacing.forEach((s, a) => expect(s).toBeCloseTo(g.spacing[a], 4));
  volume!.direction.forEach((d, n) => expect(d).toBeCloseTo(g.direction[n], 4));
  // A CT series opens in the soft-tissue window.
  expect(await page.evaluate(() => window.__samApp!.windowLevel)).toEqual({ width: 400, center: 40 });
  for (const view of ['axial', 'coronal', 'sagittal']) {
    expect((await pixelStats(page, page.getByTestId(`canvas-${view}`))).std, view).toBeGreaterThan(10);
  }
});

test('a folder with several DICOM series offers a chooser and skips other files', async ({ page }) => {
  const folder = test.info().outputPath('mixed-series');
  writeMixedDicomFolder(folder);
  await page.getByTestId('open-folder-input').setInputFiles(folder);
  const chooser = page.getByTestId('series-chooser');
  await expect(chooser.locator('tbody tr')).toHaveCount(2);
  await expect(chooser).toContainText('Axial CT');
  const scout = chooser.locator('tbody tr', { hasText: 'Scout' });
  await expect(scout).toContainText('MR');
  await expect(scout).toContainText('10 × 10 × 5');
  await saveScreenshot(page, 'app-series-chooser.png');
  await scout.click();
  await waitForRenderedVolume(page, 'Scout');
  expect(await loadedVolume(page)).toMatchObject({ name: 'Scout', modality: 'MR', size: [10, 10, 5] });
  await expect(chooser).toHaveCount(0);
});

test('Load demo opens the synthetic CT phantom', async ({ page }) => {
  await page.getByTestId('load-demo').click();
  await waitForRenderedVolume(page, 'Demo phantom (synthetic CT)');
  expect(await loadedVolume(page)).toMatchObject({ modality: 'CT', dataType: 'int16' });
  for (const view of ['axial', 'coronal', 'sagittal']) {
    expect((await pixelStats(page, page.getByTestId(`canvas-${view}`))).std, view).toBeGreaterThan(10);
  }
  await saveScreenshot(page, 'app-demo.png');
});

test('a file dropped on the window opens', async ({ page }) => {
  const file = niftiFile('dropped.nii', geometry([24, 24, 12], [1, 1, 2]));
  const dataTransfer = await page.evaluateHandle(
    ({ name, bytes }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], name));
      return transfer;
    },
    { name: file.name, bytes: [...file.buffer] },
  );
  await page.dispatchEvent('.app', 'dragover', { dataTransfer });
  await expect(page.locator('.drop-overlay')).toBeVisible();
  await page.dispatchEvent('.app', 'drop', { dataTransfer });
  await waitForRenderedVolume(page, 'dropped.nii');
  await expect(page.locator('.drop-overlay')).toHaveCount(0);
});

test('a NIfTI opens through the worker reader, and one with scaled intensities through itk-wasm, to the same grid', async ({ page }) => {
  const g = geometry([40, 48, 20], [0.9, 0.8, 2.5], rotatedAboutZ(20), [12, -30, 7]);
  const workers: string[] = [];
  page.on('worker', (worker) => workers.push(worker.url()));
  await openFiles(page, [niftiFile('worker.nii.gz', g, true)]);
  expect(workers.some((url) => url.includes('nifti-reader'))).toBe(true);
  const plain = await loadedVolume(page);
  // makeTestVolume's voxels run from 0 to 1000 (the marker).
  await expect.poll(() => page.evaluate(() => window.__samApp?.volume?.range)).toEqual([0, 1000]);
  expect(plain).toMatchObject({ dataType: 'int16', size: [40, 48, 20] });

  // scl_slope 2, scl_inter -100: ITK reads the voxels as float 2v - 100.
  const scaled = niftiFile('scaled.nii', g);
  scaled.buffer.writeFloatLE(2, 112);
  scaled.buffer.writeFloatLE(-100, 116);
  await openFiles(page, [scaled]);
  await expect.poll(() => page.evaluate(() => window.__samApp?.volume?.range)).toEqual([-100, 1900]);
  const read = await loadedVolume(page);
  expect(read).toMatchObject({ dataType: 'float32', size: plain!.size });
  // The same grid up to rounding (each reader computes it in its own order).
  read!.spacing.forEach((v, n) => expect(v).toBeCloseTo(plain!.spacing[n], 6));
  read!.direction.forEach((v, n) => expect(v).toBeCloseTo(plain!.direction[n], 6));
});
