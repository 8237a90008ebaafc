// Benchmark: read a checkpoint's state dict from a local file, printing time and memory; with a
// template folder, build the sessions from it instead: onnxruntime-node (the --checkpoint path)
// or, with "web", onnxruntime-web from a Blob as the browser does (its wasm heap shows in RSS).
// usage: npx tsx tests/support/pth-bench.ts FILE.pth [TEMPLATES_DIR [web]]
// (tests/pth-vit-b.test.ts leaves a full-size one in .cache/pth-tests/vit-b/: checkpoint.pth, export/templates)
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { openCheckpointModel } from '../../src/cli/checkpoint-model';
import { openFileSource } from '../../src/cli/file-byte-source';
import { blobSource } from '../../src/core/pth/byte-source';
import { Checkpoint } from '../../src/core/pth/checkpoint';
import { createTemplateSessions, parseTemplateManifest } from '../../src/core/pth/template-weights';

const [file, templates, runtime] = process.argv.slice(2);
if (!file) throw new Error('usage: npx tsx tests/support/pth-bench.ts FILE.pth [TEMPLATES_DIR]');
const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Runs `work`, returning its result, its duration and the peak RSS growth while it ran. */
async function measure<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; peak: number }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  clearInterval(sampler);
  return { result, ms, peak: Math.max(peak, process.memoryUsage().rss) - baseline };
}

if (templates && runtime === 'web') {
  const built = await measure(async () => {
    const manifest = parseTemplateManifest(JSON.parse(await readFile(join(templates, 'manifest.json'), 'utf8')));
    const checkpoint = await Checkpoint.open(blobSource(await openAsBlob(file)));
    return createTemplateSessions(manifest, checkpoint, async (graph, data) =>
      ortWeb.InferenceSession.create(await readFile(join(templates, graph.model)), { externalData: [{ path: graph.weightsFile, data }] }),
    );
  });
  console.log(`${file}: onnxruntime-web sessions from templates in ${built.ms.toFixed(0)} ms, peak RSS growth ${megabytes(built.peak)}`);
} else if (templates) {
  const built = await measure(() => openCheckpointModel(file, templates));
  console.log(`${file}: sessions from templates in ${built.ms.toFixed(0)} ms, peak RSS growth ${megabytes(built.peak)}`);
  await built.result.dispose();
} else {
  const source = await openFileSource(file);
  const read = await measure(async () => (await Checkpoint.open(source)).loadStateDict());
  await source.close();
  const weights = [...read.result.values()].reduce((total, tensor) => total + tensor.data.byteLength, 0);
  console.log(`${file}: ${megabytes(source.size)} file, ${read.result.size} tensors, ${megabytes(weights)} float32 weights`);
  console.log(
    `state dict read in ${read.ms.toFixed(0)} ms, peak RSS growth ${megabytes(read.peak)} (${(read.peak / weights).toFixed(2)}x the weights)`,
  );
}
