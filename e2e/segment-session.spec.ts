import { expect, test } from '@playwright/test';
import { openFiles } from './app-support';
import { clickVoxel, scanFile, segState } from './segment-support';

test('reopening the scan after a reload offers the autosaved segmentation and restores it exactly', async ({ page }) => {
  await page.goto('/');
  await openFiles(page, [scanFile()]);
  await page.getByTestId('tool-brush').click();
  await clickVoxel(page, 'axial', [10, 9, 20]);
  await page.getByLabel('Name of segment 1').fill('Marked');
  await page.getByLabel('Name of segment 1').press('Enter');
  await page.getByTestId('add-segment').click();
  await page.getByLabel('Brush shape').selectOption('sphere');
  await clickVoxel(page, 'axial', [40, 45, 20]);
  const before = await segState(page);
  expect(before.segments.map((s) => s.voxels > 0)).toEqual([true, true]);
  await expect.poll(() => page.evaluate(() => window.__samSegmentation!.autosavedAt), { timeout: 10_000 }).not.toBeNull();
  // The save after the last change: wait until nothing is pending.
  await page.waitForTimeout(1500);

  await page.reload();
  await openFiles(page, [scanFile()]);
  await expect(page.getByTestId('restore-prompt')).toContainText('2 segments');
  await page.screenshot({ path: test.info().outputPath('restore-prompt.png') });
  expect((await segState(page)).segments).toEqual([]);
  await page.getByTestId('restore-session').click();
  await expect.poll(async () => (await segState(page)).checksum).toBe(before.checksum);
  const restored = await segState(page);
  expect(restored.segments.map((s) => [s.name, s.color, s.voxels])).toEqual(before.segments.map((s) => [s.name, s.color, s.voxels]));
  await expect(page.getByTestId('restore-prompt')).toHaveCount(0);

  // Discarding forgets it: the next visit offers nothing.
  await page.reload();
  await openFiles(page, [scanFile()]);
  await page.getByTestId('discard-session').click();
  await page.waitForTimeout(1500);
  await page.reload();
  await openFiles(page, [scanFile()]);
  await page.waitForTimeout(1000);
  await expect(page.getByTestId('restore-prompt')).toHaveCount(0);
});

test('an exported seg.nrrd and NIfTI import back on the same scan; a labelmap of another grid is refused', async ({ page }) => {
  await page.goto('/');
  await openFiles(page, [scanFile()]);
  await page.getByTestId('tool-brush').click();
  await clickVoxel(page, 'axial', [12, 10, 20]);
  await page.getByTestId('add-segment').click();
  await clickVoxel(page, 'axial', [40, 45, 20]);
  await page.getByLabel('Name of segment 2').fill('Second');
  await page.getByLabel('Name of segment 2').press('Enter');
  const before = await segState(page);
  const saved: Record<string, string> = {};
  for (const [button, name] of [
    ['export-seg-nrrd', 'labels.seg.nrrd'],
    ['export-nifti', 'labels.nii.gz'],
  ]) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(button).click()]);
    saved[name] = test.info().outputPath(name);
    await download.saveAs(saved[name]);
  }

  for (const [name, names] of [
    ['labels.seg.nrrd', ['Segment 1', 'Second']],
    ['labels.nii.gz', ['Segment 1', 'Segment 2']],
  ] as const) {
    await page.reload();
    await openFiles(page, [scanFile()]);
    // The autosave of the previous page may be offered (it is looked up right after opening).
    await page.waitForTimeout(1000);
    if (await page.getByTestId('discard-session').isVisible()) await page.getByTestId('discard-session').click();
    await page.getByTestId('import-labelmap').setInputFiles(saved[name]);
    await expect.poll(async () => (await segState(page)).checksum).toBe(before.checksum);
    expect((await segState(page)).segments.map((s) => s.name)).toEqual(names);
    // The import is one undoable step.
    await page.getByTestId('undo').click();
    expect((await segState(page)).segments).toEqual([]);
  }

  await page.getByTestId('import-labelmap').setInputFiles(scanFile('other-grid.nii.gz', [32, 32, 16]));
  await expect(page.getByTestId('segmentation-error')).toContainText("other-grid.nii.gz is not on this scan's grid");
  // The scan itself is on the grid but is no labelmap.
  await page.getByTestId('import-labelmap').setInputFiles(scanFile('scan-as-labels.nii.gz'));
  await expect(page.getByTestId('segmentation-error')).toContainText('scan-as-labels.nii.gz is not a labelmap: it holds the value');
});
