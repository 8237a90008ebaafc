#!/usr/bin/env node
// Engine benchmark (Node, onnxruntime-node): full-size ViT-B random-weight model on a
// 512 x 512 x 300 CT-like phantom. Prints: first click (encode + decode + paste), decoder-only
// click with a cached embedding (target <= 150 ms) with its parts, and one sliding-window extension.
// Makes the checkpoint and the ONNX export under .cache/ when missing (a few minutes, once).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const checkpoint = path.join(root, '.cache/checkpoints/vit_b_random.pth');
const modelDir = path.join(root, '.cache/models/vit_b');
const python = '/usr/bin/python3';

function ensureModel() {
  if (!existsSync(checkpoint)) {
    console.log('making the random ViT-B checkpoint...');
    execFileSync(python, ['models/make_random_checkpoint.py', '--preset', 'vit_b', '--out', checkpoint], { cwd: root, stdio: 'inherit' });
  }
  if (!existsSync(path.join(modelDir, 'decoder.onnx'))) {
    console.log('exporting it to ONNX...');
    execFileSync(python, ['models/export.py', '--checkpoint', checkpoint, '--out', modelDir], { cwd: root, stdio: 'inherit' });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => `${value.toFixed(1)} ms`;

async function main() {
  ensureModel();
  const load = (file) => tsImport(path.join(root, file), import.meta.url);
  const { openModel } = await load('src/cli/model-source.ts');
  const { SegmentationSession } = await load('src/core/engine/session.ts');
  const { maskFromLogits } = await load('src/core/engine/patch-inference.ts');
  const { makeDemoPhantom } = await load('src/core/phantom.ts');

  let started = performance.now();
  const { volume } = makeDemoPhantom({ size: [512, 512, 300], spacing: [0.8, 0.8, 1.0] });
  console.log(`phantom 512 x 512 x 300 (0.8 x 0.8 x 1.0 mm): ${ms(performance.now() - started)}`);

  const runner = await openModel({ modelDir });
  // Time the runner's own calls to split the click into model and engine work.
  const modelTimes = { encode: [], decode: [] };
  let lastLogits;
  const timed = {
    encode: async (image) => {
      const t = performance.now();
      const result = await runner.encode(image);
      modelTimes.encode.push(performance.now() - t);
      return result;
    },
    decode: async (input) => {
      const t = performance.now();
      const result = await runner.decode(input);
      modelTimes.decode.push(performance.now() - t);
      lastLogits = result.logits;
      return result;
    },
    dispose: () => runner.dispose(),
  };

  const centre = [256, 256, 150];
  // Warm-up: first session runs pay one-off graph optimization costs.
  await new SegmentationSession(volume, timed, { volumeId: 'warm-up', maxPatches: 1 }).addClick('o', centre, true);
  modelTimes.encode.length = 0;
  modelTimes.decode.length = 0;

  const session = new SegmentationSession(volume, timed, { volumeId: 'ct', maxPatches: 1 });
  started = performance.now();
  await session.addClick('first', centre, true);
  const firstClick = performance.now() - started;
  console.log(`first click (resample patch + encode + decode + paste): ${ms(firstClick)}  [encoder ${ms(modelTimes.encode[0])}, decoder ${ms(modelTimes.decode[0])}]`);

  modelTimes.decode.length = 0;
  const clickTimes = [];
  for (let n = 0; n < 7; n++) {
    const point = [centre[0] + 10 * (n - 3), centre[1] + 5, centre[2] - 4];
    started = performance.now();
    await session.addClick('first', point, n % 2 === 0);
    clickTimes.push(performance.now() - started);
  }
  const upsampleTimes = [];
  for (let n = 0; n < 5; n++) {
    started = performance.now();
    maskFromLogits(lastLogits);
    upsampleTimes.push(performance.now() - started);
  }
  const decoderMedian = median(modelTimes.decode);
  const clickMedian = median(clickTimes);
  console.log(
    `decoder-only click to mask on the 512 x 512 x 300 grid: median ${ms(clickMedian)} of ${clickTimes.length} (target <= 150 ms)` +
      `  [decoder ${ms(decoderMedian)}, upsample + threshold ${ms(median(upsampleTimes))}, paste + rest ${ms(clickMedian - decoderMedian - median(upsampleTimes))}]`,
  );

  // One sliding-window extension: time from the first patch done to the second patch done.
  const follow = new SegmentationSession(volume, timed, { volumeId: 'ct-follow', maxPatches: 2 });
  const marks = [];
  started = performance.now();
  const result = await follow.addClick('follow', centre, true, { onProgress: () => marks.push(performance.now()) });
  const total = performance.now() - started;
  if (result.patchesRun === 2) {
    console.log(`sliding-window extension (overlap prompts + resample + encode + decode + merge): ${ms(marks[1] - marks[0])}; whole click with it ${ms(total)}`);
  } else {
    console.log(`sliding-window extension: not triggered (the random-weight mask did not reach a patch face); click ${ms(total)}`);
  }
  await runner.dispose();
}

await main();
