/** Helpers shared by the app end-to-end tests: test volumes, file input, canvas pixels. */
import { expect, test, type Locator, type Page } from '@playwright/test';
import type { ImageGeometry, Mat3, Vec3 } from '../src/core/types';
import { encodeNifti, encodeNrrd } from '../tests/support/raw-writers';
// Brings in the type of window.__samApp, the app's read-only test hook.
import type {} from '../src/ui/testHook';

export const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** Direction of an LPS image rotated by `degrees` about the z (S) axis. */
export function rotatedAboutZ(degrees: number): Mat3 {
  const c = Math.cos((degrees * Math.PI) / 180);
  const s = Math.sin((degrees * Math.PI) / 180);
  return [c, s, 0, -s, c, 0, 0, 0, 1];
}

/** Where the bright marker column sits: every k at these (i, j). */
export const MARKER = { i: [18, 20], j: [40, 42] };

/**
 * An int16 test volume: a dim gradient background (0..60) and a bright (1000) 3 x 3 column
 * at MARKER, so a test can find the marker on screen and know its voxel independently.
 */
export function makeTestVolume(geometry: ImageGeometry): Int16Array {
  const [nx, ny, nz] = geometry.size;
  const data = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const inMarker = i >= MARKER.i[0] && i <= MARKER.i[1] && j >= MARKER.j[0] && j <= MARKER.j[1];
        data[i + nx * (j + ny * k)] = inMarker ? 1000 : Math.round((60 * (i + j + k)) / (nx + ny + nz));
      }
    }
  }
  return data;
}

export function geometry(size: Vec3, spacing: Vec3, direction: Mat3 = IDENTITY, origin: Vec3 = [0, 0, 0]): ImageGeometry {
  return { size, spacing, direction, origin };
}

export interface FilePayload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

export function niftiFile(name: string, g: ImageGeometry, gzip = false): FilePayload {
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(encodeNifti(g, makeTestVolume(g), { gzip })) };
}

export function nrrdFile(name: string, g: ImageGeometry): FilePayload {
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(encodeNrrd(g, makeTestVolume(g))) };
}

export interface LoadedVolume {
  id: string;
  name: string;
  size: Vec3;
  spacing: Vec3;
  direction: Mat3;
}

export async function loadedVolume(page: Page): Promise<LoadedVolume | null> {
  return page.evaluate(() => window.__samApp?.volume ?? null) as Promise<LoadedVolume | null>;
}

/** Opens files through the toolbar's file input and waits until all three views drew them. */
export async function openFiles(page: Page, files: FilePayload[]): Promise<void> {
  await page.getByTestId('open-files-input').setInputFiles(files);
  await waitForRenderedVolume(page, files[0].name);
}

export async function waitForRenderedVolume(page: Page, name: string): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate(() => {
          const app = window.__samApp;
          return app?.volume ? { name: app.volume.name, views: Object.keys(app.firstRenders).length } : null;
        }),
      { timeout: 60_000 },
    )
    .toEqual({ name, views: 3 });
}

export interface PixelStats {
  mean: number;
  std: number;
  width: number;
  height: number;
  /** Centroid (CSS px from the element's top-left) of pixels brighter than 250 in all channels. */
  brightCentroid: [number, number] | null;
  /** Width and height (px) of the drawn image: columns and rows mostly made of non-black grey pixels. */
  imageSize: [number, number];
}

/** The RGBA pixels of what is on screen inside an element (screenshot decoded in the page). */
export async function screenPixels(page: Page, element: Locator): Promise<{ width: number; height: number; data: Uint8Array }> {
  const png = (await element.screenshot()).toString('base64');
  const decoded = await page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    let binary = '';
    for (let n = 0; n < data.length; n += 0x8000) binary += String.fromCharCode(...data.subarray(n, n + 0x8000));
    return { width: bitmap.width, height: bitmap.height, rgba: btoa(binary) };
  }, png);
  return { width: decoded.width, height: decoded.height, data: new Uint8Array(Buffer.from(decoded.rgba, 'base64')) };
}

/** Grey-level statistics of what is on screen inside an element. */
export async function pixelStats(page: Page, element: Locator): Promise<PixelStats> {
  const { data, ...bitmap } = await screenPixels(page, element);
  let sum = 0;
  let sumSquares = 0;
  let brightX = 0;
  let brightY = 0;
  let bright = 0;
  const n = bitmap.width * bitmap.height;
  const greyPerColumn = new Uint32Array(bitmap.width);
  const greyPerRow = new Uint32Array(bitmap.height);
  for (let p = 0; p < n; p++) {
    const [r, g, b] = [data[4 * p], data[4 * p + 1], data[4 * p + 2]];
    const grey = (r + g + b) / 3;
    // Neutral, non-black pixels belong to the image (overlay lines and letters are coloured).
    if (grey > 20 && Math.max(r, g, b) - Math.min(r, g, b) < 6) {
      greyPerColumn[p % bitmap.width]++;
      greyPerRow[Math.floor(p / bitmap.width)]++;
    }
    sum += grey;
    sumSquares += grey * grey;
    if (r > 250 && g > 250 && b > 250) {
      bright++;
      brightX += p % bitmap.width;
      brightY += Math.floor(p / bitmap.width);
    }
  }
  const mean = sum / n;
  // Thin lines and text cover few pixels of a row or column; the image covers most of its own.
  const extent = (counts: Uint32Array, length: number) => counts.filter((c) => c > 0.25 * length).length;
  return {
    mean,
    std: Math.sqrt(Math.max(0, sumSquares / n - mean * mean)),
    width: bitmap.width,
    height: bitmap.height,
    brightCentroid: bright ? ([brightX / bright, brightY / bright] as [number, number]) : null,
    imageSize: [extent(greyPerColumn, bitmap.height), extent(greyPerRow, bitmap.width)] as [number, number],
  };
}

/** The four orientation letters of a view, read from the screen. */
export async function edgeLetters(page: Page, view: string) {
  const panel = page.getByTestId(`view-${view}`);
  const letter = (edge: string) => panel.getByTestId(`letter-${edge}`).textContent();
  return { left: await letter('left'), right: await letter('right'), top: await letter('top'), bottom: await letter('bottom') };
}

/** A full-page screenshot in the test's output folder, to be looked at. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: test.info().outputPath(name) });
}
