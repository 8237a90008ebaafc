/**
 * A real WebGPU device loss in the middle of a session: Chromium's GPU process is crashed (CDP
 * Browser.crashGpuProcess, which loses every GPUDevice and WebGL context of the browser) while a
 * click runs on WebGPU (SwiftShader here). The app must go on on WASM with nothing lost: the
 * segments, points, voxels and undo history made before, and the click that was running.
 *
 * The in-repo fixture's model has random weights, so "segments correctly" means: the same clicks give the
 * same masks as a session that ran on WASM from the start.
 */
import { readImageNode } from '@itk-wasm/image-io';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { join } from 'node:path';
import type { Vec3 } from '../src/core/types';
import { pixelStats, waitForRenderedVolume } from './app-support';
import { clickVoxel, dice, segState, settled } from './segment-support';
import { MINI } from '../tests/support/fixtures';

const FIXTURE_MODEL = MINI.model; // scripts/prepare-test-models.sh
/** A click that opens a new patch needs ~30 s on SwiftShader WebGPU (encoder and decoder). */
const CLICK_TIMEOUT = 180_000;

/** Voxels of the demo phantom on its middle axial slice (k = 60), where the axial view starts. */
const CLICKS = {
  liver: [50, 75, 60] as Vec3,
  liverAgain: [44, 70, 60] as Vec3,
  /** Far enough from the liver click to need a patch of its own: the encoder runs. */
  kidney: [111, 111, 60] as Vec3,
  /** Inside the liver click's patch: the decoder runs on its embedding, computed on WebGPU. */
  liverAfterLoss: [58, 84, 60] as Vec3,
};

const shot = (page: Page, name: string) => page.screenshot({ path: test.info().outputPath(name) });

async function openPhantomAndModel(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByTestId('load-demo').click();
  await waitForRenderedVolume(page, 'Demo phantom (synthetic CT)');
  await page
    .getByTestId('model-files')
    .setInputFiles(['encoder.onnx', 'decoder.onnx', 'model.json'].map((name) => join(FIXTURE_MODEL, name)));
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
  // Random weights give masks that spread far: one patch per click keeps each click one encoder run.
  await page.getByTestId('max-patches').fill('1');
  await page.getByTestId('tool-segment').click();
}

/** Clicks a voxel in the axial view for the active segment and waits for the result. */
async function segmentClick(page: Page, label: number, index: Vec3, points: number) {
  await clickVoxel(page, 'axial', index);
  await expect
    .poll(async () => (await segState(page)).segments.find((s) => s.label === label)?.points.length, { timeout: CLICK_TIMEOUT })
    .toBe(points);
  return settled(page);
}

async function selectSegment(page: Page, label: number): Promise<void> {
  await page.getByTestId(`segment-${label}`).getByTestId('segment-volume').click();
}

/** The labelmap as exported (NIfTI, read back in Node). */
async function exportLabels(page: Page, name: string): Promise<Uint8Array> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-nifti').click()]);
  const path = test.info().outputPath(name);
  await download.saveAs(path);
  return (await readImageNode(path)).data as Uint8Array;
}

const labelMask = (labels: Uint8Array, label: number) => labels.map((v) => (v === label ? 1 : 0));

/** The whole session on WASM (the default on a software adapter): the masks the other run must give. */
async function referenceLabels(page: Page): Promise<Uint8Array> {
  await openPhantomAndModel(page);
  expect((await segState(page)).inference.backend?.backend).toBe('wasm');
  await segmentClick(page, 1, CLICKS.liver, 1);
  await segmentClick(page, 1, CLICKS.liverAgain, 2);
  await page.getByTestId('add-segment').click();
  await segmentClick(page, 2, CLICKS.kidney, 1);
  await selectSegment(page, 1);
  await segmentClick(page, 1, CLICKS.liverAfterLoss, 3);
  return exportLabels(page, 'reference.nii.gz');
}

/** Crashes the GPU process of `browser`: every GPUDevice and WebGL context in it is lost. */
async function crashGpuProcess(browser: Browser): Promise<void> {
  const cdp = await browser.newBrowserCDPSession();
  await cdp.send('Browser.crashGpuProcess');
  await cdp.detach();
}

test('a WebGPU device loss mid-click falls back to WASM and keeps the session', async ({
  page,
  playwright,
  launchOptions,
  baseURL,
  viewport,
}) => {
  test.setTimeout(600_000);
  const reference = await referenceLabels(page);

  // A browser of its own: the crash must not reach the other tests' browser.
  const browser = await playwright.chromium.launch(launchOptions);
  try {
    const app = await browser.newPage({ baseURL, viewport });
    await openPhantomAndModel(app);
    expect((await segState(app)).inference.backend?.webgpuUsable).toBe(true);
    await app.getByLabel('Backend').selectOption('webgpu');
    await expect(app.getByTestId('backend')).toHaveAttribute('data-backend', 'webgpu', { timeout: 120_000 });

    const afterFirst = await segmentClick(app, 1, CLICKS.liver, 1);
    const beforeLoss = await segmentClick(app, 1, CLICKS.liverAgain, 2);
    expect(beforeLoss.segments[0].voxels).toBeGreaterThan(0);
    expect(beforeLoss.inference.backend?.backend).toBe('webgpu');
    await shot(app, '1-webgpu-before-loss.png');

    // A click on a new segment, and the GPU process dies while WebGPU encodes its patch.
    await app.getByTestId('add-segment').click();
    await clickVoxel(app, 'axial', CLICKS.kidney);
    await expect.poll(async () => (await segState(app)).inference.busy).toBe(true);
    await crashGpuProcess(browser);
    const atLoss = await segState(app);
    expect(atLoss.inference.busy).toBe(true);
    expect(atLoss.segments[1].points).toEqual([]); // the click was still running

    // WASM now, and the user is told why; WebGPU cannot be chosen again.
    await expect(app.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 30_000 });
    await expect(app.getByTestId('inference-message')).toContainText(/WebGPU device lost \(.+\); now on WASM/);
    await expect(app.getByLabel('Backend').locator('option[value="webgpu"]')).toBeDisabled();
    // Screenshots fail until the restarted GPU process composites again.
    await expect(() => shot(app, '2-on-wasm-while-the-click-runs.png')).toPass({ timeout: 30_000 });

    // The running click completes on WASM; what was there before is untouched.
    await expect.poll(async () => (await segState(app)).segments[1].points.length, { timeout: CLICK_TIMEOUT }).toBe(1);
    const afterLostClick = await settled(app);
    expect(afterLostClick.segments[0]).toEqual(beforeLoss.segments[0]);
    expect(afterLostClick.segments[1].points).toEqual([{ index: CLICKS.kidney, positive: true }]);
    expect(afterLostClick.segments[1].voxels).toBeGreaterThan(0);
    await shot(app, '3-running-click-done-on-wasm.png');
    // The crash lost the views' WebGL contexts too: once restored, every view draws the scan again
    // (neutral grey pixels are the image). The random-weight masks cover most of the views, so their
    // overlays (2D canvases of their own, above the WebGL views) are hidden while the scan is measured.
    const hideOverlays = await app.addStyleTag({ content: '.segmentation-overlay { visibility: hidden; }' });
    for (const view of ['axial', 'coronal', 'sagittal']) {
      await expect
        .poll(async () => (await pixelStats(app, app.getByTestId(`canvas-${view}`))).imageSize[0], { timeout: 30_000 })
        .toBeGreaterThan(50);
    }
    await hideOverlays.evaluate((style) => style.parentNode?.removeChild(style));

    // A further click, on the segment made on WebGPU, runs on WASM.
    await selectSegment(app, 1);
    const afterLoss = await segmentClick(app, 1, CLICKS.liverAfterLoss, 3);
    expect(afterLoss.inference.backend?.backend).toBe('wasm');
    await shot(app, '4-click-on-wasm.png');
    // The image panel is intact (a screenshot after the crash can show a stale compositor tile there).
    await expect(app.getByTestId('image-info')).toContainText(/Modality\s*CT/);

    // The same masks as the session that ran on WASM throughout.
    const labels = await exportLabels(app, 'after-loss.nii.gz');
    for (const label of [1, 2]) {
      const overlap = dice(labelMask(labels, label), labelMask(reference, label));
      console.log(`segment ${label}: Dice ${overlap.toFixed(5)} against the WASM-only session`);
      expect(overlap).toBeGreaterThanOrEqual(0.999);
    }

    // The undo history made before the loss still restores exact masks and points.
    const undo = () => app.getByTestId('undo').click();
    await undo();
    expect((await segState(app)).checksum).toBe(afterLostClick.checksum);
    await undo(); // the kidney click
    expect((await segState(app)).checksum).toBe(beforeLoss.checksum);
    await undo(); // adding segment 2
    expect((await segState(app)).segments).toEqual(beforeLoss.segments);
    await undo();
    expect(await segState(app)).toMatchObject({ checksum: afterFirst.checksum, segments: afterFirst.segments });
    for (let n = 0; n < 4; n++) await app.getByTestId('redo').click();
    expect((await segState(app)).checksum).toBe(afterLoss.checksum);
    await shot(app, '5-undone-and-redone.png');
  } finally {
    await browser.close();
  }
});
