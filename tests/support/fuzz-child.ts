/**
 * Child process of the fuzz runner (tests/support/fuzz-runner.ts): reads each case it is sent
 * through the app's Node reader and validation, and reports the outcome and its peak memory.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { geometryProblem } from '../../src/core/geometry';
import { LoadError } from '../../src/core/validate';
import { readImageNode } from '../../src/io/node';
import { makeCase } from './fuzz';
import type { CaseRequest, CaseResult } from './fuzz-runner';

async function run({ seed, index, dir, maxVoxels }: CaseRequest): Promise<CaseResult> {
  const fuzzCase = makeCase(seed, index);
  const filePath = path.join(dir, fuzzCase.name);
  writeFileSync(filePath, fuzzCase.bytes);
  const started = process.cpuUsage();
  let outcome: CaseResult['outcome'];
  let detail: string;
  try {
    const volume = await readImageNode(filePath, { maxVoxels });
    const { size } = volume.geometry;
    const problem =
      geometryProblem(volume.geometry) ??
      (volume.data.length === size[0] * size[1] * size[2] ? null : `${volume.data.length} voxels for size ${size.join(' x ')}`);
    outcome = problem ? 'failure' : 'loaded';
    detail = problem ? `loaded with an invalid geometry: ${problem}` : size.join(' x ');
  } catch (error) {
    if (error instanceof LoadError && error.fileName === fuzzCase.name) {
      outcome = 'refused';
      detail = error.reason;
    } else {
      outcome = 'failure';
      detail =
        error instanceof LoadError
          ? `LoadError naming ${error.fileName}: ${error.reason}`
          : `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    }
  } finally {
    rmSync(filePath, { force: true });
  }
  const cpu = process.cpuUsage(started);
  return {
    index,
    mutation: fuzzCase.mutation,
    outcome,
    detail,
    ms: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

process.on('message', (request: CaseRequest) => {
  void run(request).then((result) => process.send?.(result));
});
process.send?.('ready');
