import { expect, test } from '@playwright/test';
import {
  edgeLetters,
  geometry,
  loadedVolume,
  MARKER,
  niftiFile,
  openFiles,
  pixelStats,
  rotatedAboutZ,
  saveScreenshot,
} from './app-support';

const VIEWS = ['axial', 'coronal', 'sagittal'] as const;

test.beforeEach(async ({ page }) => {
  await page.goto('/');
});

test('three views render the volume with LPS orientation letters', async ({ page }) => {
  await openFiles(page, [niftiFile('straight.nii', geometry([64, 64, 32], [1, 1, 2.5]))]);
  for (const view of VIEWS) {
    const stats = await pixelStats(page, page.getByTestId(`canvas-${view}`));
    expect(stats.std, `${view} view shows structure`).toBeGreaterThan(10);
  }
  expect(await edgeLetters(page, 'axial')).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  expect(await edgeLetters(page, 'coronal')).toEqual({ left: 'R', right: 'L', top: 'S', bottom: 'I' });
  expect(await edgeLetters(page, 'sagittal')).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' });
  await saveScreenshot(page, 'app-straight.png');
});

test('orientation letters follow an oblique LPS direction matrix', async ({ page }) => {
  // Rotated 30 degrees about S: index i runs towards L (and a little P), j towards P (and a little R).
  await openFiles(page, [niftiFile('oblique.nii.gz', geometry([64, 64, 32], [1, 1, 2], rotatedAboutZ(30)), true)]);
  expect(await edgeLetters(page, 'axial')).toEqual({ left: 'RA', right: 'LP', top: 'AL', bottom: 'PR' });
  expect(await edgeLetters(page, 'coronal')).toEqual({ left: 'RA', right: 'LP', top: 'S', bottom: 'I' });
  expect(await edgeLetters(page, 'sagittal')).toEqual({ left: 'AL', right: 'PR', top: 'S', bottom: 'I' });
  await saveScreenshot(page, 'app-oblique.png');
});

test('pixels keep their physical aspect with anisotropic spacing', async ({ page }) => {
  // 64 x 48 x 16 voxels of 1 x 1 x 4 mm: 64 x 48 x 64 mm.
  await openFiles(page, [niftiFile('anisotropic.nii', geometry([64, 48, 16], [1, 1, 4]))]);
  await page.getByTestId('preset-Soft tissue').click();
  const aspect = async (view: string) => {
    const [width, height] = (await pixelStats(page, page.getByTestId(`canvas-${view}`))).imageSize;
    return width / height;
  };
  expect(await aspect('axial')).toBeCloseTo(64 / 48, 1);
  expect(await aspect('coronal')).toBeCloseTo(64 / 64, 1);
  expect(await aspect('sagittal')).toBeCloseTo(48 / 64, 1);
});

test('a click in the axial view moves the coronal and sagittal slices to that voxel', async ({ page }) => {
  await openFiles(page, [niftiFile('marker.nii', geometry([64, 64, 32], [1, 1, 2.5]))]);
  // Left clicks place segmentation points unless the navigation tool is on.
  await page.getByTestId('tool-navigate').click();
  // The soft-tissue window shows the background grey and the 1000-valued marker pure white.
  await page.getByTestId('preset-Soft tissue').click();
  const axial = page.getByTestId('canvas-axial');
  await expect.poll(async () => (await pixelStats(page, axial)).brightCentroid).not.toBeNull();
  const { brightCentroid } = await pixelStats(page, axial);
  await axial.click({ position: { x: brightCentroid![0], y: brightCentroid![1] } });

  const markerCenter = [(MARKER.i[0] + MARKER.i[1]) / 2, (MARKER.j[0] + MARKER.j[1]) / 2];
  const slices = await page.evaluate(() => window.__samApp!.slices);
  // Straight LPS: sagittal slices step along i, coronal along j.
  expect(slices).toEqual({ axial: 16, sagittal: markerCenter[0], coronal: markerCenter[1] });
  expect(await page.evaluate(() => window.__samApp!.crosshair)).toEqual([markerCenter[0], markerCenter[1], 16]);
  // The marker column now crosses the middle of both other views.
  for (const view of ['coronal', 'sagittal']) {
    expect((await pixelStats(page, page.getByTestId(`canvas-${view}`))).brightCentroid, view).not.toBeNull();
  }
  await expect(page.getByTestId('readout')).toContainText(`Value 1000`);
  await saveScreenshot(page, 'app-linked-crosshair.png');
});

test('wheel and keys step slices; window presets and drag change the window', async ({ page }) => {
  await openFiles(page, [niftiFile('steps.nii', geometry([64, 64, 32], [1, 1, 2.5]))]);
  const slice = (view: string) => page.evaluate((v) => window.__samApp!.slices![v], view);
  await page.getByTestId('tool-navigate').click();
  const axial = page.getByTestId('view-axial');
  await axial.click();
  const start = await slice('axial');
  await page.keyboard.press('ArrowUp');
  expect(await slice('axial')).toBe(start + 1);
  await page.keyboard.press('PageDown');
  expect(await slice('axial')).toBe(start + 1 - 10);
  const box = (await page.getByTestId('view-sagittal').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const sagittalStart = await slice('sagittal');
  await page.mouse.wheel(0, -100);
  await expect.poll(() => slice('sagittal')).toBe(sagittalStart + 1);

  await page.getByTestId('preset-Lung').click();
  expect(await page.evaluate(() => window.__samApp!.windowLevel)).toEqual({ width: 1500, center: -600 });
  await page.mouse.move(box.x + 100, box.y + 100);
  await page.mouse.down({ button: 'right' });
  await page.mouse.move(box.x + 160, box.y + 100, { steps: 4 });
  await page.mouse.up({ button: 'right' });
  expect((await page.evaluate(() => window.__samApp!.windowLevel)).width).toBeGreaterThan(1500);
  expect(await loadedVolume(page)).toMatchObject({ name: 'steps.nii' });
});

test('each tool takes its own presses and leaves the others to navigation', async ({ page }) => {
  await openFiles(page, [niftiFile('tools.nii', geometry([64, 64, 32], [1, 1, 2.5]))]);
  const axial = (await page.getByTestId('view-axial').boundingBox())!;
  const crosshair = () => page.evaluate(() => window.__samApp!.crosshair);
  const voxelOnScreen = () => page.evaluate(() => window.__samSegmentation!.screenPoint('axial', [20, 24, 16]));
  const [vx, vy] = (await voxelOnScreen())!;

  // Segment: a left click is a point (no model yet, so the app says to load one), not a crosshair move.
  await page.getByTestId('tool-segment').click();
  const before = await crosshair();
  await page.mouse.click(axial.x + vx, axial.y + vy);
  await expect(page.getByTestId('inference-message')).toContainText('Load a model first');
  expect(await crosshair()).toEqual(before);
  // ...while a middle drag pans the view.
  const [x0, y0] = (await voxelOnScreen())!;
  await page.mouse.move(axial.x + 100, axial.y + 100);
  await page.mouse.down({ button: 'middle' });
  await page.mouse.move(axial.x + 130, axial.y + 80, { steps: 3 });
  await page.mouse.up({ button: 'middle' });
  const [x1, y1] = (await voxelOnScreen())!;
  expect(x1 - x0).toBeCloseTo(30, 0);
  expect(y1 - y0).toBeCloseTo(-20, 0);

  // Brush: a right drag still sets the window.
  await page.getByTestId('tool-brush').click();
  await page.getByTestId('preset-Lung').click();
  await page.mouse.move(axial.x + 100, axial.y + 100);
  await page.mouse.down({ button: 'right' });
  await page.mouse.move(axial.x + 160, axial.y + 100, { steps: 4 });
  await page.mouse.up({ button: 'right' });
  expect((await page.evaluate(() => window.__samApp!.windowLevel)).width).toBeGreaterThan(1500);

  // Navigate: the left click moves the crosshair (the view was panned by (30, -20) pixels since).
  await page.getByTestId('tool-navigate').click();
  await page.mouse.click(axial.x + vx + 30, axial.y + vy - 20);
  expect(await crosshair()).toEqual([20, 24, before[2]]);
});
