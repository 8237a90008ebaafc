import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { ORACLE_DIR } from './segment-support';

const graph = (name: string) => readFileSync(join(ORACLE_DIR, name));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Serves the oracle model under /models/ (as a deployer would) and counts requests per file. */
async function serveModels(page: Page, options: { wrongDigest?: boolean; offline?: boolean } = {}) {
  const counts: Record<string, number> = {};
  const manifest = {
    name: 'oracle',
    encoder: { file: 'encoder.onnx', sha256: sha256(graph('encoder.onnx')) },
    decoder: { file: 'decoder.onnx', sha256: options.wrongDigest ? '0'.repeat(64) : sha256(graph('decoder.onnx')) },
  };
  await page.route('**/models/*', (route) => {
    const file = new URL(route.request().url()).pathname.split('/').pop()!;
    counts[file] = (counts[file] ?? 0) + 1;
    if (options.offline) return route.abort('internetdisconnected');
    if (file === 'model.json') return route.fulfill({ json: manifest });
    if (file === 'encoder.onnx' || file === 'decoder.onnx')
      return route.fulfill({ body: graph(file), contentType: 'application/octet-stream' });
    return route.fulfill({ status: 404 });
  });
  return counts;
}

async function loadFromUrl(page: Page) {
  await page.getByRole('button', { name: 'Load from URL' }).click();
  await expect(page.getByTestId('model-status')).not.toHaveAttribute('data-status', 'loading', { timeout: 120_000 });
}

test('a model under /models/ is downloaded once, verified, cached for the next visit (even offline)', async ({ page }) => {
  const first = await serveModels(page);
  await page.goto('/');
  await loadFromUrl(page);
  await expect(page.getByTestId('model-status')).toHaveText('oracle ready (verified)');
  expect(first).toMatchObject({ 'model.json': 1, 'encoder.onnx': 1, 'decoder.onnx': 1 });

  // Second visit: model.json is checked again, the graphs come from Cache Storage.
  await page.unrouteAll();
  const second = await serveModels(page);
  await page.reload();
  await loadFromUrl(page);
  await expect(page.getByTestId('model-status')).toHaveText('oracle ready (verified)');
  expect(second['encoder.onnx'] ?? 0).toBe(0);
  expect(second['decoder.onnx'] ?? 0).toBe(0);

  // Offline: the cached graphs still load (unverified, since model.json cannot be fetched).
  await page.unrouteAll();
  await serveModels(page, { offline: true });
  await page.reload();
  await loadFromUrl(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('inference-message')).toContainText('not verified');

  // Cleared cache + offline: a clear message naming the file.
  await page.getByRole('button', { name: 'Clear cache' }).click();
  await loadFromUrl(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'error');
  await expect(page.getByTestId('inference-message')).toContainText('Could not download encoder.onnx');
});

test('a graph that does not match model.json is refused with a clear message', async ({ page }) => {
  await serveModels(page, { wrongDigest: true });
  await page.goto('/');
  await page.getByRole('button', { name: 'Clear cache' }).click();
  await loadFromUrl(page);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'error');
  await expect(page.getByTestId('inference-message')).toContainText('decoder.onnx does not match model.json (SHA-256');
  await page.screenshot({ path: test.info().outputPath('digest-mismatch.png') });
});
