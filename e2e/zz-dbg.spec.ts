import { test } from '@playwright/test';
import { basename, join } from 'node:path';
test('dbg', async ({ page }) => {
  test.setTimeout(300_000);
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.route('**/selftest-data/models/*', (route) => route.fulfill({ path: join('.cache/models/fixture-a', basename(new URL(route.request().url()).pathname)) }));
  await page.goto('/selftest.html');
  const out = await page.evaluate(async () => {
    const ort = await import('/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs' as string);
    ort.env.logLevel = 'verbose';
    const res: string[] = [];
    for (const name of ['encoder', 'decoder']) {
      const bytes = new Uint8Array(await (await fetch(`/selftest-data/models/${name}.onnx`)).arrayBuffer());
      try {
        await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], logSeverityLevel: 0, logVerbosityLevel: 0 });
        res.push(name + ' ok');
      } catch (e) { res.push(name + ' ' + String(e)); }
    }
    return res;
  });
  console.log(out);
  for (const [i, l] of logs.entries()) if (/placed on/.test(l)) console.log(logs.slice(i, i + 25).join("\n"));
});
