import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { indexToWorld } from '../src/core/geometry';
import { makeDemoPhantom } from '../src/core/phantom';
import type { ImageGeometry, Vec3 } from '../src/core/types';
import { encodeNifti } from '../tests/support/raw-writers';
import { openFiles, saveScreenshot, screenPixels, waitForRenderedVolume, type FilePayload } from './app-support';
import { ballTruth, clickVoxel, loadOracleModel, SCAN, scanFile, segState, settled } from './segment-support';

const out = (name: string) => test.info().outputPath(name);

function labelmapFile(name: string, geometry: ImageGeometry, labels: Uint8Array): FilePayload {
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(encodeNifti(geometry, labels, { gzip: true })) };
}

/** Triangles per label shown in the 3D view. */
async function triangles(page: Page): Promise<Record<number, number>> {
  const text = (await page.getByTestId('view-3d').getAttribute('data-triangles')) ?? '';
  return Object.fromEntries(
    text
      .split(' ')
      .filter(Boolean)
      .map((pair) => pair.split(':').map(Number)),
  );
}

/** Fraction of the 3D canvas's pixels that show `color` (any shade of it: the surface is lit); null: any lit pixel. */
async function colourFraction(page: Page, color: number[] | null): Promise<number> {
  const { data } = await screenPixels(page, page.getByTestId('canvas-3d'));
  const peak = color ? Math.max(...color) : 0;
  let matching = 0;
  for (let p = 0; p < data.length; p += 4) {
    const pixel = [data[p], data[p + 1], data[p + 2]];
    const top = Math.max(...pixel);
    if (top < 60) continue;
    // Same hue and saturation: the pixel is the colour scaled by the lighting.
    if (!color || pixel.every((v, c) => Math.abs(v / top - color[c] / peak) < 0.12)) matching++;
  }
  return matching / (data.length / 4);
}

/** Pixels of a slice view's segmentation overlay that show a label. */
function overlayPixels(page: Page, view: string): Promise<number> {
  return page
    .getByTestId(`view-${view}`)
    .getByTestId('segmentation-overlay')
    .evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let drawn = 0;
      for (let p = 3; p < data.length; p += 4) if (data[p] > 0) drawn++;
      return drawn;
    });
}

/** The 3D view's data-picked point (LPS mm), set by a click on a surface. */
async function picked(page: Page): Promise<Vec3 | null> {
  const text = await page.getByTestId('view-3d').getAttribute('data-picked');
  return text ? (text.split(',').map(Number) as Vec3) : null;
}

test('the 3D view shows imported segments, hides them, picks the crosshair and exports STL', async ({ page }) => {
  await page.goto('/');
  await openFiles(page, [scanFile()]);
  // Ball 0 as label 1.
  await page.getByTestId('import-labelmap').setInputFiles(labelmapFile('ball.nii.gz', SCAN.geometry, ballTruth(0)));
  await expect.poll(async () => (await triangles(page))[1] ?? 0).toBeGreaterThan(100);
  const [segment] = (await segState(page)).segments;
  await expect.poll(() => colourFraction(page, segment.color)).toBeGreaterThan(0.005);
  await page.getByTestId('view-3d').screenshot({ path: out('3d-ball.png') });

  // Hide the segment: its colour leaves the 3D view.
  const show = page.getByTestId('segment-1').getByRole('checkbox');
  await show.uncheck();
  await expect.poll(() => colourFraction(page, segment.color)).toBeLessThan(0.001);
  await show.check();
  await expect.poll(() => colourFraction(page, segment.color)).toBeGreaterThan(0.005);

  // Anterior view framed on the ball: the view's centre looks at the ball's anterior pole.
  await page.getByTestId('3d-view-A').click();
  const canvas = page.getByTestId('canvas-3d');
  const box = (await canvas.boundingBox())!;
  await page.getByTestId('tool-navigate').click();
  await canvas.click({ position: { x: box.width / 2, y: box.height / 2 } });
  await expect.poll(() => picked(page)).not.toBeNull();
  const point = (await picked(page))!;
  const center = indexToWorld(SCAN.geometry, SCAN.balls[0].center);
  const pole: Vec3 = [center[0], center[1] - SCAN.balls[0].radiusMm, center[2]];
  expect(Math.hypot(...point.map((v, a) => v - pole[a]))).toBeLessThan(3);
  const crosshair = (await page.evaluate(() => window.__samApp!.crosshair)) as Vec3;
  const crosshairWorld = indexToWorld(SCAN.geometry, crosshair);
  expect(Math.hypot(...crosshairWorld.map((v, a) => v - point[a]))).toBeLessThan(2);

  // Its opacity (segments panel) applies to the 3D view and the slice overlays alike: at 0 both lose
  // the colour. The crosshair is on the ball now, so the axial overlay shows it.
  const axialOverlayPixels = () => overlayPixels(page, 'axial');
  const opacity = page.getByTestId('segment-opacity-1');
  await expect.poll(axialOverlayPixels).toBeGreaterThan(100);
  await opacity.fill('0');
  await expect.poll(() => colourFraction(page, segment.color)).toBeLessThan(0.001);
  await expect.poll(axialOverlayPixels).toBe(0);
  await opacity.fill('1');
  await expect.poll(() => colourFraction(page, segment.color)).toBeGreaterThan(0.005);

  // A lost WebGL context, once restored, rebuilds the view on a new canvas with the surface.
  const canvasElement = page.getByTestId('canvas-3d').locator('canvas');
  await canvasElement.evaluate((element: HTMLCanvasElement) => {
    (element as HTMLCanvasElement & { lost?: boolean }).lost = true;
    const extension = element.getContext('webgl2')!.getExtension('WEBGL_lose_context')!;
    extension.loseContext();
    setTimeout(() => extension.restoreContext(), 200);
  });
  await expect.poll(() => canvasElement.evaluate((element) => (element as { lost?: boolean }).lost ?? false)).toBe(false);
  await expect.poll(() => colourFraction(page, segment.color)).toBeGreaterThan(0.005);

  // STL in RAS: the bounds are the ball's (radius 18 mm), x and y negated.
  await page.getByLabel('Mesh coordinates').selectOption('RAS');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-stl').click()]);
  const path = out('ball.stl');
  await download.saveAs(path);
  const bytes = readFileSync(path);
  expect(bytes.subarray(0, 80).toString('latin1')).toContain('SPACE=RAS');
  const count = bytes.readUInt32LE(80);
  expect(bytes.length).toBe(84 + 50 * count);
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let t = 0; t < count; t++) {
    for (let v = 0; v < 3; v++) {
      for (let a = 0; a < 3; a++) {
        const x = bytes.readFloatLE(84 + 50 * t + 12 + 12 * v + 4 * a);
        min[a] = Math.min(min[a], x);
        max[a] = Math.max(max[a], x);
      }
    }
  }
  const ras = [-center[0], -center[1], center[2]];
  for (let a = 0; a < 3; a++) {
    // Within one voxel (2.5 mm at most) of the ball's extent.
    expect(Math.abs(min[a] - (ras[a] - SCAN.balls[0].radiusMm))).toBeLessThan(2.5);
    expect(Math.abs(max[a] - (ras[a] + SCAN.balls[0].radiusMm))).toBeLessThan(2.5);
  }
});

test('a click with the oracle model grows the surface as its parts land', async ({ page }) => {
  await page.goto('/');
  await openFiles(page, [scanFile()]);
  await loadOracleModel(page);
  // Record each surface the view shows for label 1 while the click runs.
  await page.evaluate(() => {
    const view = document.querySelector('[data-testid="view-3d"]')!;
    const seen: string[] = [];
    (window as unknown as { __surfaceSizes: string[] }).__surfaceSizes = seen;
    new MutationObserver(() => seen.push(view.getAttribute('data-triangles') ?? '')).observe(view, {
      attributes: true,
      attributeFilter: ['data-triangles'],
    });
  });
  await page.getByTestId('max-patches').fill('8');
  await clickVoxel(page, 'axial', SCAN.balls[0].center);
  const [segment] = (await settled(page)).segments;
  expect(segment.voxels).toBeGreaterThan(1000);
  await expect.poll(async () => (await triangles(page))[segment.label] ?? 0).toBeGreaterThan(100);
  await expect.poll(() => colourFraction(page, segment.color)).toBeGreaterThan(0.005);
  const sizes = await page.evaluate(() => (window as unknown as { __surfaceSizes: string[] }).__surfaceSizes);
  console.log(`surface updates during the click: ${sizes.join(' | ')}`);
  expect(sizes.filter(Boolean).length).toBeGreaterThanOrEqual(1);
  await page.getByTestId('view-3d').screenshot({ path: out('3d-click.png') });
});

test('layouts: 2x2, three slices with a large 3D view, any view maximised and restored; remembered', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('load-demo').click();
  await waitForRenderedVolume(page, 'Demo phantom (synthetic CT)');
  const demo = makeDemoPhantom();
  await page.getByTestId('import-labelmap').setInputFiles(labelmapFile('organs.nii.gz', demo.volume.geometry, demo.labels.data));
  await expect.poll(async () => Object.keys(await triangles(page)).length, { timeout: 60_000 }).toBe(demo.organs.length);
  const grid = page.getByTestId('view-grid');
  await expect(grid).toHaveAttribute('data-layout', '2x2');
  await page.waitForTimeout(500);
  await saveScreenshot(page, 'layout-2x2.png');
  await page.getByTestId('view-3d').screenshot({ path: out('3d-demo.png') });

  await page.getByTestId('layout-1x3').click();
  await expect(grid).toHaveAttribute('data-layout', '1x3');
  const large = (await page.getByTestId('view-3d').boundingBox())!;
  const small = (await page.getByTestId('view-axial').boundingBox())!;
  expect(large.width * large.height).toBeGreaterThan(2.5 * small.width * small.height);
  await page.waitForTimeout(500);
  await saveScreenshot(page, 'layout-1x3.png');

  // Double-click the 3D title: only the 3D view is left; again restores.
  await page.getByTestId('title-3d').dblclick();
  await expect(grid).toHaveAttribute('data-layout', 'max-3d');
  await expect(page.getByTestId('view-axial')).toBeHidden();
  await page.waitForTimeout(500);
  await saveScreenshot(page, 'layout-max-3d.png');
  await page.getByTestId('title-3d').dblclick();
  await expect(grid).toHaveAttribute('data-layout', '1x3');

  // Volume rendering (bone preset) and the slice planes add the scan to the 3D view.
  const litBefore = await colourFraction(page, null);
  await page.getByTestId('3d-volume-preset').selectOption('ct-bone');
  await page.getByTestId('3d-planes').check();
  await expect.poll(() => colourFraction(page, null), { timeout: 60_000 }).toBeGreaterThan(litBefore + 0.05);
  await page.getByTestId('view-3d').screenshot({ path: out('3d-volume-planes.png') });
  await page.getByTestId('3d-volume-preset').selectOption('');
  await page.getByTestId('3d-planes').uncheck();

  // M over the coronal view maximises it; the hidden 3D view stops drawing.
  await page.getByTestId('view-coronal').hover();
  await page.keyboard.press('m');
  await expect(grid).toHaveAttribute('data-layout', 'max-coronal');
  await expect(page.getByTestId('view-3d')).toBeHidden();
  // Its labels, drawn again at the new size, are still there once the page has been idle (a resized
  // overlay is allocated then by clearing it, if nothing was drawn on it).
  await page.evaluate(() => new Promise((resolve) => requestIdleCallback(resolve)));
  await page.waitForTimeout(500);
  expect(await overlayPixels(page, 'coronal')).toBeGreaterThan(1000);
  await saveScreenshot(page, 'layout-max-coronal.png');

  // The layout survives a reload.
  await page.reload();
  await expect(page.getByTestId('view-grid')).toHaveAttribute('data-layout', 'max-coronal');
  await page.keyboard.press('m');
  await expect(page.getByTestId('view-grid')).toHaveAttribute('data-layout', '1x3');
});
