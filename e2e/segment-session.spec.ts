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
