#!/usr/bin/env node
// Engine benchmark (Node, onnxruntime-node): full-size ViT-B random-weight model on a
// 512 x 512 x 300 CT-like phantom. Prints: first click (encode + decode + paste), decoder-only
// click with a cached embedding (target <= 150 ms) with its parts, and one sliding-window extension.
// Makes the checkpoint and the ONNX export under .cache/ when missing (a few minutes, once).
import os from 'node:os';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { ensureVitB, root } from './bench-support.mjs';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => `${value.toFixed(1)} ms`;
// Timings are wall clock: on a shared machine they grow with the load, so print it alongside.
const load = () => `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`;

async function main() {
  const { modelDir } = ensureVitB();
  const importTs = (file) => tsImport(path.join(root, file), import.meta.url);
  const { openModel } = await importTs('src/cli/model-source.ts');
  const { SegmentationSession } = await importTs('src/core/engine/session.ts');
  const { maskFromLogits } = await importTs('src/core/engine/patch-inference.ts');
  const { makeDemoPhantom } = await importTs('src/core/phantom.ts');
  const { patchFootprint, pastePatchMask, sourceToModel } = await importTs('src/core/resample.ts');
  console.log(`engine benchmark, Node ${process.version}, ${load()}`);

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
  console.log(
    `first click (resample patch + encode + decode + paste): ${ms(firstClick)}  [encoder ${ms(modelTimes.encode[0])}, decoder ${ms(modelTimes.decode[0])}]`,
  );

  modelTimes.decode.length = 0;
  const clickTimes = [];
  for (let n = 0; n < 7; n++) {
    const point = [centre[0] + 10 * (n - 3), centre[1] + 5, centre[2] - 4];
    started = performance.now();
    await session.addClick('first', point, n % 2 === 0);
    clickTimes.push(performance.now() - started);
  }
  // The engine's own work is single-threaded JavaScript: its CPU time is what it takes on an idle core.
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const upsampleCpu = [];
  const pasteCpu = [];
  const offset = sourceToModel(session.grid, centre).map((v) => Math.round(v) - 64);
  const footprint = patchFootprint(session.grid, offset);
  const target = new Uint8Array(volume.data.length);
  for (let n = 0; n < 5; n++) {
    let t = cpuMs();
    const mask = maskFromLogits(lastLogits);
    upsampleCpu.push(cpuMs() - t);
    t = cpuMs();
    pastePatchMask(target, session.grid, footprint, mask);
    pasteCpu.push(cpuMs() - t);
  }
  const decoderMedian = median(modelTimes.decode);
  const clickMedian = median(clickTimes);
  const box = footprint.hi.map((h, a) => h - footprint.lo[a] + 1).join(' x ');
  console.log(
    `decoder-only click to mask on the 512 x 512 x 300 grid: median ${ms(clickMedian)} wall of ${clickTimes.length} (target <= 150 ms), decoder ${ms(decoderMedian)} wall`,
  );
  console.log(
    `  engine CPU time per click: upsample 32^3 -> 128^3 + threshold ${ms(median(upsampleCpu))}, paste onto ${box} original voxels ${ms(median(pasteCpu))}`,
  );

  // One sliding-window extension: time from the first patch done to the second patch done.
  const follow = new SegmentationSession(volume, timed, { volumeId: 'ct-follow', maxPatches: 2 });
  const marks = [];
  started = performance.now();
  const result = await follow.addClick('follow', centre, true, { onProgress: () => marks.push(performance.now()) });
  const total = performance.now() - started;
  if (result.patchesRun === 2) {
    console.log(
      `sliding-window extension (overlap prompts + resample + encode + decode + merge): ${ms(marks[1] - marks[0])}; whole click with it ${ms(total)}`,
    );
  } else {
    console.log(`sliding-window extension: not triggered (the random-weight mask did not reach a patch face); click ${ms(total)}`);
  }
  console.log(`done, ${load()}`);
  await runner.dispose();
}

await main();
