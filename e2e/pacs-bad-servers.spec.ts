import type { Page } from '@playwright/test';
import type { Vec3 } from '../src/core/types';
import { geometry, loadedVolume, makeTestVolume, waitForRenderedVolume } from './app-support';
import { connectPacs, expect, PACS_ROOT, seriesRow, startTestOrthanc, studyRow, test, uploadSeries, type Orthanc } from './pacs-support';
import { clickVoxel, segState } from './segment-support';

const g = geometry([48, 40, 10], [1.5, 1.5, 3]);

async function uploadStudy(orthanc: Orthanc, patientName = 'Doe^Jane'): Promise<{ studyInstanceUid: string; seriesInstanceUid: string }> {
  const studyInstanceUid = `2.25.${Date.now()}2`;
  const seriesInstanceUid = `2.25.${Date.now()}3`;
  await uploadSeries(orthanc, g, makeTestVolume(g), { studyInstanceUid, seriesInstanceUid, seriesDescription: 'Axial', patientName });
  return { studyInstanceUid, seriesInstanceUid };
}

/** Uploads the study, connects and opens its series from the PACS panel. */
async function openUploadedStudy(page: Page, orthanc: Orthanc): Promise<void> {
  await uploadStudy(orthanc);
  await page.goto('/');
  await connectPacs(page);
  await studyRow(page, 'Doe Jane').click();
  await seriesRow(page, 'Axial').click();
  await waitForRenderedVolume(page, 'Axial');
}

test('deep links open a series, or list the study; a missing UID says not found', async ({ page, orthanc }) => {
  const { studyInstanceUid, seriesInstanceUid } = await uploadStudy(orthanc);
  await page.goto(`/?dicomweb=${PACS_ROOT}&StudyInstanceUIDs=${studyInstanceUid}&SeriesInstanceUIDs=${seriesInstanceUid}`);
  await waitForRenderedVolume(page, 'Axial');
  expect((await loadedVolume(page))?.size).toEqual(g.size);

  await page.goto(`/?dicomweb=${PACS_ROOT}&StudyInstanceUIDs=${studyInstanceUid}`);
  await expect(page.getByTestId('pacs-series').locator('tbody tr')).toHaveCount(1);
  expect(await loadedVolume(page)).toBeNull();

  await page.goto(`/?dicomweb=${PACS_ROOT}&StudyInstanceUIDs=2.25.404`);
  await expect(page.getByTestId('pacs-message')).toContainText('not found');
  await page.goto(`/?dicomweb=${PACS_ROOT}&StudyInstanceUIDs=${studyInstanceUid}&SeriesInstanceUIDs=2.25.404`);
  await expect(page.getByTestId('pacs-message')).toContainText('not found');
});

test('an unreachable PACS gets a clear message and the app stays usable', async ({ page, orthanc }) => {
  await openUploadedStudy(page, orthanc);
  await orthanc.stop();
  await page.getByTestId('pacs-search').click();
  await expect(page.getByTestId('pacs-message')).toContainText('the PACS cannot be reached');
  await seriesRow(page, 'Axial').click();
  await expect(page.getByTestId('pacs-message')).toContainText('the PACS cannot be reached');
  // The open scan is still there.
  expect((await loadedVolume(page))?.name).toBe('Axial');
});

test.describe('with authentication', () => {
  test.use({ orthancOptions: { users: { doctor: 'right-password' } } });

  test('a wrong credential is asked again; the credential never reaches a URL or storage', async ({ page, orthanc }) => {
    await uploadStudy(orthanc);
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    const logs: string[] = [];
    page.on('console', (message) => logs.push(message.text()));
    await page.goto('/');
    await connectPacs(page, { user: 'doctor', password: 'wrong-password' });
    await expect(page.getByTestId('pacs-ask-credential')).toBeVisible();
    await expect(page.getByTestId('pacs-message')).toContainText('401');
    await page.getByTestId('pacs-secret').fill('right-password');
    await page.getByTestId('pacs-connect').click();
    await expect(studyRow(page, 'Doe Jane')).toBeVisible();
    await expect(page.getByTestId('pacs-ask-credential')).toBeHidden();

    const stored = await page.evaluate(async () => {
      const databases = await indexedDB.databases();
      return JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, databases, url: location.href });
    });
    for (const text of [...urls, ...logs, stored, await page.getByTestId('pacs-panel').innerText()]) {
      expect(text).not.toContain('right-password');
      expect(text).not.toContain('wrong-password');
    }
  });
});

test.describe('with a PACS that refuses stores', () => {
  test.use({ orthancOptions: { refuseStores: true } });

  test('a refused store shows the status and keeps everything; a retry stores it', async ({ page, orthanc }) => {
    await openUploadedStudy(page, orthanc);
    await page.getByRole('button', { name: 'Close the PACS panel' }).click();
    await page.getByTestId('tool-brush').click();
    await page.getByTestId('brush-radius').fill('5');
    await clickVoxel(page, 'axial', [20, 20, 5] as Vec3);
    await expect.poll(async () => (await segState(page)).segments[0]?.voxels ?? 0).toBeGreaterThan(0);
    const painted = await segState(page);

    await page.getByTestId('open-pacs').click();
    await page.getByTestId('store-seg').click();
    await expect(page.getByTestId('store-result')).toContainText('the PACS refused it (403 Forbidden)');
    await expect(page.getByTestId('store-seg')).toHaveText('Retry: Store to PACS');
    expect((await segState(page)).checksum).toBe(painted.checksum);

    // The PACS accepts stores again (same address): the retry succeeds.
    await orthanc.stop();
    const accepting = await startTestOrthanc();
    try {
      await page.getByTestId('store-seg').click();
      await expect(page.getByTestId('store-result')).toHaveText('Stored the segmentation to the PACS.', { timeout: 60_000 });
      const series = (await accepting.rest('GET', '/series?expand')) as unknown as { MainDicomTags: { Modality: string } }[];
      expect(series.map((s) => s.MainDicomTags.Modality)).toEqual(['SEG']);
    } finally {
      await accepting.stop();
    }
  });
});

test('a slow PACS: progress keeps moving and Cancel stops the retrieval', async ({ page, orthanc }) => {
  const big = geometry([256, 256, 60], [1, 1, 1]);
  const studyInstanceUid = `2.25.${Date.now()}4`;
  await uploadSeries(orthanc, big, makeTestVolume(big), { studyInstanceUid, seriesDescription: 'Large', patientName: 'Slow^Server' });
  await page.goto('/');
  // A slow link to the server: about 1 MB/s.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 50,
    downloadThroughput: 1_000_000,
    uploadThroughput: 1_000_000,
  });
  await connectPacs(page);
  await studyRow(page, 'Slow Server').click();
  await seriesRow(page, 'Large').click();
  const progress = page.getByTestId('pacs-progress');
  await expect(progress).toContainText('/ 60 instances');
  const first = await progress.innerText();
  await expect.poll(() => progress.innerText()).not.toBe(first);
  await page.getByTestId('pacs-cancel').click();
  await expect(progress).toBeHidden();
  await expect(page.getByTestId('pacs-message')).toContainText('cancelled');
  expect(await loadedVolume(page)).toBeNull();
});
