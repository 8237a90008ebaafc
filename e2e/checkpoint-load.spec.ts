/**
 * The official checkpoint format in the browser, with no Python: the in-repo fixture's .pth (float16)
 * through the file input, and over HTTP from a local server with Range support standing in for the
 * Hugging Face hub. The fixture is smaller than sam_med3d_turbo, so the app is given its templates as
 * the set it knows (models/templates.json is routed); the shipped turbo set is checked by the unit tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { openFiles } from './app-support';
import { clickVoxel, SCAN, scanFile, segState, settled } from './segment-support';
import { MINI } from '../tests/support/fixtures';

const FIXTURE_CHECKPOINT = MINI.checkpoint;
const FIXTURE_MODEL = MINI.model; // scripts/prepare-test-models.sh
/** The fixture's state dict next to a 50 MB fake optimizer state (tests/support/pth-make-test-data.py). */
const WITH_OPTIMIZER = '.cache/pth-tests/with-optimizer.pth';
/** Three app loads and model conversions in one test: over the default 3 minutes on a loaded machine. */
const SLOW_TEST_MS = 480_000;

test.beforeAll(() => {
  execFileSync('/usr/bin/python3', ['tests/support/pth-make-test-data.py', '.cache/pth-tests', FIXTURE_CHECKPOINT]);
});

/** Makes the app know the fixture's templates as its only template set. */
async function routeFixtureTemplates(page: Page): Promise<void> {
  await page.route('**/models/templates.json', (route) =>
    route.fulfill({ json: [{ name: 'Test fixture', manifest: '/test-templates/fixture/manifest.json' }] }),
  );
  await page.route('**/test-templates/fixture/*', (route) => {
    const file = new URL(route.request().url()).pathname.split('/').pop()!;
    return route.fulfill({ body: readFileSync(join(FIXTURE_MODEL, 'templates', file)) });
  });
}

async function expectModelReady(page: Page): Promise<void> {
  await expect(page.getByTestId('model-status')).not.toHaveAttribute('data-status', 'loading', { timeout: 120_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready');
}

/** Loads the two-ball scan, clicks ball 0 with the segment tool, returns the labelmap checksum. */
async function segmentBall(page: Page): Promise<{ checksum: string | null; voxels: number }> {
  await page.getByTestId('tool-segment').click();
  await clickVoxel(page, 'axial', SCAN.balls[0].center);
  await expect.poll(async () => (await segState(page)).segments[0]?.points.length ?? 0, { timeout: 60_000 }).toBe(1);
  const state = await settled(page);
  expect(state.inference.lastClick).not.toBeNull();
  return { checksum: state.checksum, voxels: state.segments[0].voxels };
}

test('the fixture checkpoint through the file input: cached for the next visit, segments exactly like the exported model', async ({
  page,
}) => {
  test.setTimeout(SLOW_TEST_MS);
  await routeFixtureTemplates(page);
  await page.goto('/');
  await page.getByRole('button', { name: 'Clear cache' }).click();
  await openFiles(page, [scanFile()]);
  await page.getByTestId('checkpoint-file').setInputFiles(FIXTURE_CHECKPOINT);
  await expectModelReady(page);
  await expect(page.getByTestId('inference-message')).toContainText('Test fixture: converted from checkpoint.pth and cached');
  const fromCheckpoint = await segmentBall(page);

  // Next visit: the same file is recognised by its fingerprint and the converted model reused.
  await page.reload();
  await openFiles(page, [scanFile()]);
  await page.getByTestId('checkpoint-file').setInputFiles(FIXTURE_CHECKPOINT);
  await expectModelReady(page);
  await expect(page.getByTestId('inference-message')).toContainText('converted weights of checkpoint.pth read from the model cache');
  expect(await segmentBall(page)).toEqual(fromCheckpoint);

  // The same click with the exported graphs of the same checkpoint (npm run export-model).
  await page.reload();
  await openFiles(page, [scanFile()]);
  await page
    .getByTestId('model-files')
    .setInputFiles(['encoder.onnx', 'decoder.onnx', 'model.json'].map((name) => join(FIXTURE_MODEL, name)));
  await expectModelReady(page);
  const fromExport = await segmentBall(page);
  expect(fromExport.voxels).toBeGreaterThan(0);
  expect(fromCheckpoint).toEqual(fromExport);
});

/** A static file server with Range and CORS support, like the hub; counts the body bytes it sends. */
async function startRangeServer(file: string): Promise<{ server: Server; url: string; bytesServed: () => number }> {
  const bytes = readFileSync(file);
  let served = 0;
  const server = createServer((request, response) => {
    response.setHeader('Access-Control-Allow-Origin', '*');
    response.setHeader('Access-Control-Allow-Headers', 'Range');
    response.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    response.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    response.setHeader('Accept-Ranges', 'bytes');
    if (request.method === 'OPTIONS') return response.writeHead(204).end();
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
    if (!range) {
      served += bytes.length;
      return response.writeHead(200, { 'Content-Length': bytes.length }).end(bytes);
    }
    const [start, end] = [Number(range[1]), Math.min(Number(range[2]), bytes.length - 1)];
    served += end + 1 - start;
    response.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, 'Content-Length': end + 1 - start });
    response.end(bytes.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/sam_med3d_turbo.pth`, bytesServed: () => served };
}

async function downloadFrom(page: Page, url: string): Promise<void> {
  await page.getByLabel('Checkpoint URL').fill(url);
  await page.getByRole('button', { name: 'Download official model' }).click();
  await expect(page.getByTestId('model-status')).not.toHaveAttribute('data-status', 'loading', { timeout: 120_000 });
}

test('from a hub-like server, only the model weights are downloaded; the next visit needs no network', async ({ page }) => {
  test.setTimeout(SLOW_TEST_MS);
  const hub = await startRangeServer(WITH_OPTIMIZER);
  try {
    await routeFixtureTemplates(page);
    await page.goto('/');
    await page.getByRole('button', { name: 'Clear cache' }).click();
    await downloadFrom(page, hub.url);
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready');
    const fileSize = statSync(WITH_OPTIMIZER).size;
    const weightBytes = statSync(FIXTURE_CHECKPOINT).size; // the same state dict without the optimizer state
    console.log(`checkpoint over HTTP: ${hub.bytesServed()} of ${fileSize} bytes served (weights ${weightBytes})`);
    // The 50 MB optimizer state is never requested; the weights themselves did come over HTTP.
    expect(hub.bytesServed()).toBeLessThan(weightBytes + 0.1 * (fileSize - weightBytes));
    expect(hub.bytesServed()).toBeGreaterThan(0.9 * weightBytes);

    // Next visit, with the server gone: the converted model comes from the cache.
    hub.server.close();
    await page.reload();
    await downloadFrom(page, hub.url);
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready');
    await expect(page.getByTestId('inference-message')).toContainText('read from the model cache');

    // Cleared: the checkpoint must be fetched again, and cannot be.
    await page.getByRole('button', { name: 'Clear cache' }).click();
    await downloadFrom(page, hub.url);
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'error');
    await expect(page.getByTestId('inference-message')).toContainText('cannot be fetched');
  } finally {
    hub.server.close();
  }
});

test('offline, the official model cannot be fetched: the app says so and offers the local file', async ({ page }) => {
  await page.route('https://huggingface.co/**', (route) => route.abort('internetdisconnected'));
  await page.goto('/');
  await page.getByRole('button', { name: 'Clear cache' }).click();
  await expect(page.getByLabel('Checkpoint URL')).toHaveValue('https://huggingface.co/blueyo0/SAM-Med3D/resolve/main/sam_med3d_turbo.pth');
  await page.getByRole('button', { name: 'Download official model' }).click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'error', { timeout: 60_000 });
  const message = page.getByTestId('inference-message');
  await expect(message).toContainText(
    'The model cannot be fetched from https://huggingface.co/blueyo0/SAM-Med3D/resolve/main/sam_med3d_turbo.pth',
  );
  await expect(message).toContainText('open it with "Open checkpoint (.pth)"');
  await expect(page.getByText('Open checkpoint (.pth)', { exact: true })).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('offline.png') });
});
