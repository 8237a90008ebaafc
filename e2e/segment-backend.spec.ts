import { expect, test } from '@playwright/test';
import { openFiles } from './app-support';
import { clickVoxel, loadOracleModel, SCAN, scanFile, segState, settled } from './segment-support';

test('WebGPU (when Chromium has an adapter) and WASM give the same mask; the backend can be switched', async ({ page }) => {
  await page.goto('/');
  await openFiles(page, [scanFile()]);
  await loadOracleModel(page);
  const adapter = await page.evaluate(async () => {
    type Adapter = { info?: { isFallbackAdapter?: boolean } } | null;
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<Adapter> } }).gpu;
    const found = await gpu?.requestAdapter();
    return found ? { software: found.info?.isFallbackAdapter === true } : null;
  });
  const initial = (await segState(page)).inference.backend!;
  console.log(`adapter: ${JSON.stringify(adapter)}; backend: ${initial.backend}; ${initial.note}`);
  // Chromium here runs with --enable-unsafe-webgpu: an adapter must pass the self-test. A software
  // adapter (SwiftShader) stays selectable but WASM is the default there.
  expect(initial.webgpuUsable).toBe(adapter !== null);
  expect(initial.backend).toBe(adapter && !adapter.software ? 'webgpu' : 'wasm');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', initial.backend);

  await page.getByTestId('tool-segment').click();
  await clickVoxel(page, 'axial', SCAN.balls[0].center);
  await expect.poll(async () => (await segState(page)).segments[0]?.voxels ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
  const first = await settled(page);
  await page.getByTestId('undo').click();

  const other = initial.backend === 'webgpu' ? 'wasm' : 'webgpu';
  if (other === 'webgpu' && !initial.webgpuUsable) {
    await expect(page.getByLabel('Backend').locator('option[value="webgpu"]')).toBeDisabled();
    return;
  }
  await page.getByLabel('Backend').selectOption(other);
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', other, { timeout: 60_000 });
  // Another point first, so the worker really recomputes the first click on the new backend.
  const [i, j, k] = SCAN.balls[0].center;
  await clickVoxel(page, 'axial', [i + 2, j, k]);
  await expect.poll(async () => (await segState(page)).segments[0].points[0]?.index[0], { timeout: 60_000 }).toBe(i + 2);
  await settled(page);
  await page.getByTestId('undo').click();
  await clickVoxel(page, 'axial', SCAN.balls[0].center);
  await expect.poll(async () => (await segState(page)).segments[0].points[0]?.index[0], { timeout: 60_000 }).toBe(i);
  expect((await settled(page)).checksum).toBe(first.checksum);
  await page.screenshot({ path: test.info().outputPath(`after-switch-to-${other}.png`) });
});
