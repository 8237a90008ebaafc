/**
 * The exported fixture-A graphs (scripts/prepare-test-models.sh) reproduce the official outputs in
 * Chromium through onnxruntime-web: WASM, and WebGPU with every node on the GPU (SwiftShader adapter
 * from --enable-unsafe-webgpu in playwright.config.ts).
 */
import { expect, test } from '@playwright/test';
import { basename, join } from 'node:path';
import { MAX_RELATIVE_ERROR, MIN_DICE } from '../src/selftest/fidelity';
import type { SelftestResult } from '../src/selftest/main';
import { readNpy } from '../tests/support/npy';

const FIXTURE = '/work/shared/fixtures/sam-med3d/fixture-a';

const cases = [
  { backend: 'wasm', threads: 2, models: '.cache/models/fixture-a' },
  { backend: 'wasm', threads: 2, models: '.cache/models/fixture-a-plain' },
  { backend: 'webgpu', threads: 1, models: '.cache/models/fixture-a' },
];

for (const { backend, threads, models } of cases) {
  test(`fixture A on ${backend}, ${basename(models)}`, async ({ page }) => {
    test.setTimeout(600_000);
    await page.route('**/selftest-data/models/*', (route) => route.fulfill({ path: join(models, basename(new URL(route.request().url()).pathname)) }));
    await page.route('**/selftest-data/fixture/*', (route) => {
      const { data } = readNpy(join(FIXTURE, `${basename(new URL(route.request().url()).pathname)}.npy`));
      return route.fulfill({ body: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
    });
    await page.goto(`/selftest.html?backend=${backend}&threads=${threads}`);
    await page.waitForFunction(() => window.selftest !== undefined, null, { timeout: 590_000 });
    const result = (await page.evaluate(() => window.selftest)) as SelftestResult;
    expect(result.error).toBeUndefined();
    const report = result.fidelity;
    expect(report).toBeDefined();
    if (!report) return;
    console.log(`${backend} ${basename(models)}: ${JSON.stringify(report)}`);
    expect(report.embeddings).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
    for (const error of [...report.logits, ...report.iou]) expect(error).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
    expect(report.dice).toBeGreaterThanOrEqual(MIN_DICE);
  });
}
