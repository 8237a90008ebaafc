/**
 * 51 fuzzed files (tests/support/fuzz.ts, fixed seed) through the app's file input in Chromium:
 * no page error, each file either opens or gets a message naming it, and a refused file leaves
 * the scan on screen as it was.
 */
import { expect, test } from '@playwright/test';
import { makeCase } from '../tests/support/fuzz';
import { geometry, loadedVolume, niftiFile, openFiles, pixelStats } from './app-support';

const SEED = 20261204;
const CASES = 51;

test('51 fuzzed files: each opens or is refused by name, no page error, the previous scan stays', async ({ page }) => {
  test.setTimeout(600_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto('/');
  await openFiles(page, [niftiFile('good.nii', geometry([32, 32, 16], [1, 1, 1]))]);
  let previous = await loadedVolume(page);
  const outcomes = { loaded: 0, refused: 0 };
  for (let index = 0; index < CASES; index++) {
    const fuzzCase = makeCase(SEED, index);
    const label = `case ${index} (${fuzzCase.mutation})`;
    await page
      .getByTestId('open-files-input')
      .setInputFiles({ name: fuzzCase.name, mimeType: 'application/octet-stream', buffer: Buffer.from(fuzzCase.bytes) });
    const notice = page.getByTestId('notice').filter({ hasText: fuzzCase.name });
    await expect
      // A DICOM file opens under its series description: a new volume id tells that it opened.
      .poll(async () => ((await notice.count()) > 0 ? 'refused' : (await loadedVolume(page))?.id !== previous?.id ? 'loaded' : 'busy'), {
        timeout: 60_000,
        message: label,
      })
      .not.toBe('busy');
    await expect(page.getByRole('button', { name: 'Open file(s)' }), label).toBeEnabled({ timeout: 60_000 });
    if ((await notice.count()) > 0) {
      outcomes.refused++;
      await expect(notice.first(), label).toContainText(`Could not open ${fuzzCase.name}: `);
      expect(await loadedVolume(page), label).toEqual(previous);
      await notice.first().getByRole('button', { name: 'Dismiss' }).click();
    } else {
      outcomes.loaded++;
      previous = await loadedVolume(page);
      expect(
        previous!.size.every((n) => Number.isInteger(n) && n > 0),
        label,
      ).toBe(true);
    }
  }
  console.log(`${CASES} fuzzed files in Chromium: ${outcomes.loaded} opened, ${outcomes.refused} refused by name`);
  expect(pageErrors).toEqual([]);
  expect(outcomes.refused).toBeGreaterThan(20);
  expect((await pixelStats(page, page.getByTestId('canvas-axial'))).std).toBeGreaterThan(0);
});
