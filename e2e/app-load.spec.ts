import { expect, test } from '@playwright/test';
import { geometry, loadedVolume, niftiFile, nrrdFile, openFiles, pixelStats, rotatedAboutZ } from './app-support';

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

test('a bad file shows its name and reason, and the previous volume stays', async ({ page }) => {
  await openFiles(page, [niftiFile('good.nii', geometry([32, 32, 16], [1, 1, 1]))]);
  const before = await loadedVolume(page);

  const good = niftiFile('broken.nii', geometry([32, 32, 16], [1, 1, 1]));
  const truncated = { ...good, buffer: good.buffer.subarray(0, 352 + 1000) };
  await page.getByTestId('open-files-input').setInputFiles([truncated]);
  await expect(page.getByTestId('notice')).toContainText('broken.nii');
  await expect(page.getByTestId('notice')).toContainText(/truncated|corrupt/i);
  expect(await loadedVolume(page)).toEqual(before);

  await page.getByTestId('open-files-input').setInputFiles([
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image at all') },
  ]);
  await expect(page.getByTestId('notice').filter({ hasText: 'notes.txt' })).toContainText(/unsupported/i);
  expect(await loadedVolume(page)).toEqual(before);
  expect((await pixelStats(page, page.getByTestId('canvas-axial'))).std).toBeGreaterThan(10);
  await page.screenshot({ path: 'test-results/app-bad-file.png' });
});
