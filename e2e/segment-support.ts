/** Helpers of the segmentation end-to-end tests: a two-ball scan, the oracle model, clicks on voxels. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import type { ImageGeometry, Vec3 } from '../src/core/types';
import { encodeNifti } from '../tests/support/raw-writers';
import type { SamSegmentationTestHook } from '../src/ui/segmentationTestHook';
import type { FilePayload } from './app-support';
export { dice } from '../src/core/engine/evaluation';

export const ORACLE_DIR = '.cache/models/oracle';

/**
 * Soft tissue with two bright balls joined by a bright neck (so a click on one takes both), on an
 * oblique anisotropic grid.
 */
export const SCAN = {
  geometry: {
    size: [96, 64, 40],
    spacing: [1.2, 1.2, 2.5],
    origin: [-40, 25, 10],
    direction: [Math.cos(0.2), Math.sin(0.2), 0, -Math.sin(0.2), Math.cos(0.2), 0, 0, 0, 1],
  } as ImageGeometry,
  balls: [
    { center: [28, 32, 20] as Vec3, radiusMm: 18 },
    { center: [76, 32, 20] as Vec3, radiusMm: 12 },
  ],
  neckRadiusMm: 6,
  /** A voxel on the neck, next to ball 1 and 20 mm from ball 0: where a negative click cuts ball 1 off. */
  neckPoint: [62, 32, 20] as Vec3,
};

/** In the neck: a cylinder along i between the two ball centres. */
function inNeck(i: number, j: number, k: number): boolean {
  const [, sy, sz] = SCAN.geometry.spacing;
  const [from, to] = SCAN.balls.map((b) => b.center);
  return i > from[0] && i < to[0] && ((j - from[1]) * sy) ** 2 + ((k - from[2]) * sz) ** 2 <= SCAN.neckRadiusMm ** 2;
}

function inBall(i: number, j: number, k: number, ball: (typeof SCAN.balls)[number]): boolean {
  const [sx, sy, sz] = SCAN.geometry.spacing;
  const [ci, cj, ck] = ball.center;
  return ((i - ci) * sx) ** 2 + ((j - cj) * sy) ** 2 + ((k - ck) * sz) ** 2 <= ball.radiusMm ** 2;
}

/** 0/1 truth of ball `n`, i-fastest. */
export function ballTruth(n: number): Uint8Array {
  const [nx, ny, nz] = SCAN.geometry.size;
  const truth = new Uint8Array(nx * ny * nz);
  for (let k = 0, o = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, o++) truth[o] = inBall(i, j, k, SCAN.balls[n]) ? 1 : 0;
  return truth;
}

/** The scan's voxels (i-fastest) on a grid of `size`. */
export function scanVoxels(size: Vec3 = SCAN.geometry.size): Int16Array {
  const [nx, ny, nz] = size;
  const data = new Int16Array(nx * ny * nz);
  for (let k = 0, o = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, o++) data[o] = inNeck(i, j, k) || SCAN.balls.some((b) => inBall(i, j, k, b)) ? 300 : 40;
  return data;
}

/** The scan as a NIfTI file (`size` gives a file on another grid, for refusals). */
export function scanFile(name = 'two-balls.nii.gz', size: Vec3 = SCAN.geometry.size): FilePayload {
  const geometry = { ...SCAN.geometry, size };
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(encodeNifti(geometry, scanVoxels(size), { gzip: true })) };
}

export async function loadOracleModel(page: Page): Promise<void> {
  const files = ['encoder.onnx', 'decoder.onnx', 'model.json'].map((name) => ({
    name,
    mimeType: 'application/octet-stream',
    buffer: readFileSync(join(ORACLE_DIR, name)),
  }));
  await page.getByTestId('model-files').setInputFiles(files);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
}

export async function segState(page: Page): Promise<Pick<SamSegmentationTestHook, 'segments' | 'checksum' | 'inference'>> {
  return page.evaluate(() => {
    const hook = window.__samSegmentation!;
    return { segments: hook.segments, checksum: hook.checksum, inference: hook.inference };
  });
}

/** Clicks voxel `index` (on the view's current slice) in a view. */
export async function clickVoxel(
  page: Page,
  view: string,
  index: Vec3,
  options: { button?: 'left' | 'right'; modifiers?: ('Shift' | 'Control')[] } = {},
) {
  const point = await page.evaluate(([v, i]) => window.__samSegmentation!.screenPoint(v, i), [view, index] as const);
  expect(point).not.toBeNull();
  await page.getByTestId(`view-${view}`).click({ position: { x: point![0], y: point![1] }, ...options });
}

/** Waits for the worker to be idle and returns the segment table. */
export async function settled(page: Page) {
  await expect.poll(async () => (await segState(page)).inference.busy, { timeout: 60_000 }).toBe(false);
  return segState(page);
}
