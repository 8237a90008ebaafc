import { readImageNode } from '@itk-wasm/image-io';
import { expect, test, type Page } from '@playwright/test';
import type { Vec3 } from '../src/core/types';
import { openFiles } from './app-support';
import { clickVoxel, SCAN, scanFile, segState } from './segment-support';

/** Screenshots and downloads go to the test's output folder (test-results/). */
const out = (name: string) => test.info().outputPath(name);

/** Voxels within `radiusMm` of `center` (physical distance), on slice k only when `flat`. */
function expectedBrush(center: Vec3, radiusMm: number, flat: boolean): Set<number> {
  const [nx, ny, nz] = SCAN.geometry.size;
  const [sx, sy, sz] = SCAN.geometry.spacing;
  const voxels = new Set<number>();
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        if (flat && k !== center[2]) continue;
        if (((i - center[0]) * sx) ** 2 + ((j - center[1]) * sy) ** 2 + ((k - center[2]) * sz) ** 2 <= radiusMm ** 2) {
          voxels.add(i + nx * (j + ny * k));
        }
      }
  return voxels;
}

async function voxels(page: Page): Promise<number> {
  return (await segState(page)).segments[0]?.voxels ?? 0;
}

async function exportedLabels(page: Page, name: string): Promise<Uint8Array> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-nifti').click()]);
  const path = out(name);
  await download.saveAs(path);
  return (await readImageNode(path)).data as Uint8Array;
}

test('brush and eraser paint the expected voxels, in mm, with exact undo/redo', async ({ page }) => {
  await page.goto('/');
  await openFiles(page, [scanFile()]);
  const discCenter: Vec3 = [10, 9, 20];
  const sphereCenter: Vec3 = [12, 46, 20];

  await page.getByTestId('tool-brush').click();
  await page.getByTestId('brush-radius').fill('5');
  const empty = (await segState(page)).checksum;

  // 2D disc in the axial plane: 5 mm on 1.2 mm pixels.
  await clickVoxel(page, 'axial', discCenter);
  const disc = expectedBrush(discCenter, 5, true);
  await expect.poll(() => voxels(page)).toBe(disc.size);
  const afterDisc = (await segState(page)).checksum;

  // 3D sphere: 2.5 mm slices, so it spans k +-2.
  await page.getByLabel('Brush shape').selectOption('sphere');
  await clickVoxel(page, 'axial', sphereCenter);
  const sphere = expectedBrush(sphereCenter, 5, false);
  await expect.poll(() => voxels(page)).toBe(disc.size + sphere.size);
  const afterSphere = (await segState(page)).checksum;
  await page.screenshot({ path: out('1-brushed.png') });

  // The exported labelmap holds exactly these voxels.
  const labels = await exportedLabels(page, 'brushed.nii.gz');
  const painted = new Set<number>();
  labels.forEach((v, o) => v && painted.add(o));
  expect(painted).toEqual(new Set([...disc, ...sphere]));

  // The eraser (disc) over the sphere's centre slice removes that slice's disc only.
  await page.getByTestId('tool-eraser').click();
  await page.getByLabel('Brush shape').selectOption('disc');
  await clickVoxel(page, 'axial', sphereCenter);
  const erased = expectedBrush(sphereCenter, 5, true);
  await expect.poll(() => voxels(page)).toBe(disc.size + sphere.size - erased.size);
  const afterErase = (await segState(page)).checksum;
  await page.screenshot({ path: out('2-erased.png') });

  // A drag is one stroke: one undo step.
  await page.getByTestId('tool-brush').click();
  const from = (await page.evaluate(() => window.__samSegmentation!.screenPoint('axial', [30, 48, 20])))!;
  const to = (await page.evaluate(() => window.__samSegmentation!.screenPoint('axial', [50, 48, 20])))!;
  const box = (await page.getByTestId('view-axial').boundingBox())!;
  await page.mouse.move(box.x + from[0], box.y + from[1]);
  await page.mouse.down();
  for (let step = 1; step <= 10; step++) {
    await page.mouse.move(box.x + from[0] + ((to[0] - from[0]) * step) / 10, box.y + from[1] + ((to[1] - from[1]) * step) / 10);
  }
  await page.mouse.up();
  const stroke = new Set<number>();
  for (let i = 30; i <= 50; i++) for (const o of expectedBrush([i, 48, 20], 5, true)) stroke.add(o);
  await expect.poll(() => voxels(page)).toBe(disc.size + sphere.size - erased.size + stroke.size);
  await page.screenshot({ path: out('3-stroke.png') });

  const undo = async (expected: string | null) => {
    await page.keyboard.press('Control+Z');
    expect((await segState(page)).checksum).toBe(expected);
  };
  await page.getByTestId('view-axial').focus();
  await undo(afterErase);
  await undo(afterSphere);
  await undo(afterDisc);
  await undo(empty);
  await page.getByTestId('redo').click();
  expect((await segState(page)).checksum).toBe(afterDisc);
  await page.getByTestId('redo').click();
  expect((await segState(page)).checksum).toBe(afterSphere);
});
