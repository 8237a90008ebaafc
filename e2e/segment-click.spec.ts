import { readFileSync } from 'node:fs';
import { readImageNode } from '@itk-wasm/image-io';
import { expect, test, type Page } from '@playwright/test';
import { readSegNrrd } from '../src/core/export/seg-nrrd';
import { describeItkImage } from '../src/io/itk-image';
import { openFiles } from './app-support';
import { ballTruth, clickVoxel, dice, loadOracleModel, SCAN, scanFile, segState, settled } from './segment-support';

/** Screenshots and downloads go to the test's output folder (test-results/). */
const out = (name: string) => test.info().outputPath(name);

/** Fraction of the truth's voxels that the mask holds. */
function recall(mask: Uint8Array, truth: Uint8Array): number {
  let hit = 0;
  let total = 0;
  truth.forEach((v, n) => {
    total += v;
    if (v && mask[n]) hit++;
  });
  return hit / total;
}

/** Clicks Export NIfTI and reads the download back with itk-wasm in Node. */
async function exportNifti(page: Page, name: string) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-nifti').click()]);
  expect(download.suggestedFilename()).toMatch(/\.nii\.gz$/);
  const path = out(name);
  await download.saveAs(path);
  const image = await readImageNode(path);
  return { labels: image.data as Uint8Array, info: describeItkImage(image) };
}

test('click, negative click, undo/redo, export NIfTI and seg.nrrd with the oracle model', async ({ page, baseURL }) => {
  // Privacy: every request of the whole session stays on the app's origin.
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto('/');
  await openFiles(page, [scanFile()]);
  await loadOracleModel(page);
  await page.screenshot({ path: out('1-loaded.png') });
  await page.getByTestId('tool-segment').click();

  // A positive click on ball 0: the oracle takes the bright voxels connected to it, ball 1 too.
  await clickVoxel(page, 'axial', SCAN.balls[0].center);
  await expect.poll(async () => (await segState(page)).segments[0]?.voxels ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
  const afterClick = await settled(page);
  await page.screenshot({ path: out('2-positive.png') });
  expect(afterClick.segments).toHaveLength(1);
  expect(afterClick.segments[0].points).toEqual([{ index: SCAN.balls[0].center, positive: true }]);
  const truth = [ballTruth(0), ballTruth(1)];
  const first = await exportNifti(page, 'after-click.nii.gz');
  expect(recall(first.labels, truth[1])).toBeGreaterThan(0.8);
  // The page is cross-origin isolated: the worker reads the page's shared voxels, no copy of its own.
  const memory = await page.evaluate(() => window.__samSegmentation!.memory());
  expect(memory.worker).toMatchObject({ volumeShared: true, volumeBytes: 0 });
  expect(memory.page.volumeBytes).toBeGreaterThan(0);

  // A negative (Shift) click on the neck cuts ball 1 off.
  await clickVoxel(page, 'axial', SCAN.neckPoint, { modifiers: ['Shift'] });
  await expect.poll(async () => (await segState(page)).segments[0].points.length, { timeout: 60_000 }).toBe(2);
  const afterNegative = await settled(page);
  await page.screenshot({ path: out('3-negative.png') });
  expect(afterNegative.segments[0].voxels).toBeLessThan(afterClick.segments[0].voxels);

  // Export NIfTI, read back in Node: ball 0 with the source geometry.
  const { labels, info } = await exportNifti(page, 'after-negative.nii.gz');
  expect(info.size).toEqual(SCAN.geometry.size);
  info.spacing.forEach((v, n) => expect(v).toBeCloseTo(SCAN.geometry.spacing[n], 4));
  info.origin.forEach((v, n) => expect(v).toBeCloseTo(SCAN.geometry.origin[n], 4));
  Array.from(info.direction).forEach((v, n) => expect(v).toBeCloseTo(SCAN.geometry.direction[n], 4));
  const ball0 = dice(labels, truth[0]);
  console.log(`Dice vs ball 0 after positive + negative click: ${ball0.toFixed(3)}`);
  expect(ball0).toBeGreaterThanOrEqual(0.9);
  expect(dice(labels, truth[1])).toBeLessThan(0.05);

  // Undo and redo restore the exact masks (and points).
  await page.getByTestId('undo').click();
  expect((await segState(page)).checksum).toBe(afterClick.checksum);
  expect((await segState(page)).segments[0].points).toHaveLength(1);
  await page.keyboard.press('Control+Shift+Z');
  expect((await segState(page)).checksum).toBe(afterNegative.checksum);
  await page.keyboard.press('Control+Z');
  expect((await segState(page)).checksum).toBe(afterClick.checksum);
  await page.getByTestId('redo').click();
  expect((await segState(page)).checksum).toBe(afterNegative.checksum);

  // Rename and recolour, export seg.nrrd: names, colours and voxels come back.
  const nameInput = page.getByLabel('Name of segment 1');
  await nameInput.fill('Left ball');
  await nameInput.press('Enter');
  await page.getByLabel('Colour of Left ball').fill('#12ab34');
  const [segDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-seg-nrrd').click()]);
  const segPath = out(segDownload.suggestedFilename());
  await segDownload.saveAs(segPath);
  const doc = readSegNrrd(readFileSync(segPath));
  expect(doc.segments.map((s) => ({ name: s.name, color: s.color, label: s.label }))).toEqual([
    { name: 'Left ball', color: [0x12, 0xab, 0x34], label: 1 },
  ]);
  expect(dice(doc.labels, labels)).toBe(1);
  doc.geometry.origin.forEach((v, n) => expect(v).toBeCloseTo(SCAN.geometry.origin[n], 9));
  await page.screenshot({ path: out('4-renamed.png') });

  const appOrigin = new URL(baseURL!).origin;
  const foreign = requests.filter((url) => !/^(blob|data):/.test(url) && new URL(url).origin !== appOrigin);
  expect(requests.length).toBeGreaterThan(0);
  expect(foreign).toEqual([]);
});
