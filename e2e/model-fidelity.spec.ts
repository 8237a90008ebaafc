/**
 * The exported fidelity-fixture graphs (scripts/prepare-test-models.sh; the in-repo fixture always,
 * fixture A when ../shared holds it) reproduce the official outputs in
 * Chromium through onnxruntime-web: WASM, and WebGPU with every node on the GPU (SwiftShader adapter
 * from --enable-unsafe-webgpu in playwright.config.ts).
 */
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MAX_RELATIVE_ERROR, MIN_DICE } from '../src/selftest/fidelity';
import type { SelftestResult } from '../src/selftest/main';
import { FIDELITY_FIXTURES, readFixtureArray, skipAbsent } from '../tests/support/fixtures';

const cases = FIDELITY_FIXTURES.flatMap((fixture) => [
  { fixture, backend: 'wasm', threads: 2, models: fixture.model },
  { fixture, backend: 'wasm', threads: 2, models: `${fixture.model}-plain` },
  { fixture, backend: 'webgpu', threads: 1, models: fixture.model },
]);

for (const { fixture, backend, threads, models } of cases) {
  test(`${fixture.name} on ${backend}, ${basename(models)}`, async ({ page }) => {
    test.skip(skipAbsent(fixture), `${fixture.name} is not present at ${fixture.dir}`);
    test.setTimeout(600_000);
    await page.route('**/selftest-data/models/*', (route) =>
      route.fulfill({ path: join(models, basename(new URL(route.request().url()).pathname)) }),
    );
    await page.route('**/selftest-data/fixture/*', (route) => {
      const data = readFixtureArray(fixture, basename(new URL(route.request().url()).pathname));
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

// Control for the no-fallback check: a graph with a node WebGPU lacks (Or) must be refused.
const CONTROL_GRAPH = `
import sys, onnx
from onnx import helper, TensorProto as T
nodes = [helper.make_node('Greater', ['image', 'zero'], ['positive']), helper.make_node('Or', ['positive', 'positive'], ['both']),
         helper.make_node('Cast', ['both'], ['embeddings'], to=T.FLOAT)]
graph = helper.make_graph(nodes, 'control', [helper.make_tensor_value_info('image', T.FLOAT, [1, 1, 128, 128, 128])],
                          [helper.make_tensor_value_info('embeddings', T.FLOAT, [1, 1, 128, 128, 128])],
                          [helper.make_tensor('zero', T.FLOAT, [], [0.0])])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)]), sys.argv[1])
`;

test('the WebGPU session refuses a graph with a node WebGPU cannot run', async ({ page }) => {
  const control = join(mkdtempSync(join(tmpdir(), 'webgpu-control-')), 'encoder.onnx');
  execFileSync('/usr/bin/python3', ['-c', CONTROL_GRAPH, control]);
  await page.route('**/selftest-data/models/*', (route) => route.fulfill({ path: control }));
  await page.goto('/selftest.html?backend=webgpu');
  await page.waitForFunction(() => window.selftest !== undefined, null, { timeout: 120_000 });
  const result = (await page.evaluate(() => window.selftest)) as SelftestResult;
  expect(result.error).toMatch(/fallback to CPU EP has been explicitly disabled/);
});
