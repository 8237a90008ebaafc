/**
 * The experimental int8 encoder in Chromium: offered only for a model that has one, fp32 until
 * chosen, and the panel says which precision runs; a click on int8 segments.
 */
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { waitForRenderedVolume } from './app-support';
import { clickVoxel, loadOracleModel, segState } from './segment-support';
import { MINI } from '../tests/support/fixtures';

test('the int8 encoder is offered with the model, off by default, and runs once chosen', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('load-demo').click();
  await waitForRenderedVolume(page, 'Demo phantom (synthetic CT)');
  // The oracle model has no int8 encoder: no choice, fp32.
  await loadOracleModel(page);
  await expect(page.getByTestId('encoder-precision')).toHaveAttribute('data-precision', 'fp32');
  await expect(page.getByLabel('Encoder precision')).toHaveCount(0);

  const files = ['encoder.onnx', 'decoder.onnx', 'model.json', 'encoder_int8.onnx'].map((name) => join(MINI.model, name));
  await page.getByTestId('model-files').setInputFiles(files); // scripts/prepare-test-models.sh
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
  await expect(page.getByTestId('encoder-precision')).toHaveAttribute('data-precision', 'fp32');
  await expect(page.getByLabel('Encoder precision')).toHaveValue('fp32');
  await page.getByLabel('Encoder precision').selectOption('int8');
  await expect(page.getByTestId('encoder-precision')).toHaveAttribute('data-precision', 'int8', { timeout: 60_000 });
  await expect(page.getByTestId('encoder-precision')).toHaveText('Encoder: int8');

  await page.getByTestId('max-patches').fill('1');
  await page.getByTestId('tool-segment').click();
  await clickVoxel(page, 'axial', [50, 75, 60]);
  await expect.poll(async () => (await segState(page)).segments[0]?.voxels ?? 0, { timeout: 120_000 }).toBeGreaterThan(0);
  await page.getByTestId('model-panel').screenshot({ path: test.info().outputPath('model-panel-int8.png') });
});
