/**
 * A fixed-seed sample of the loader fuzzer (`npm run fuzz` runs 2000 cases): mutated NIfTI,
 * NIfTI-gz, NRRD, MetaImage and DICOM files through the app's Node reader and validation. Each
 * must load with a valid geometry or be refused with a LoadError naming the file, within 5 s of
 * CPU time and 1.5 GB of peak memory per reading process.
 */
import { describe, expect, it } from 'vitest';
import { distinctFailures, runFuzz } from './support/fuzz-runner';

describe('loader fuzzing (fixed seed sample)', () => {
  it('loads or refuses by name every mutated file, without crash, hang or memory blow-up', async () => {
    const results = await runFuzz({
      seed: 20261204,
      indices: Array.from({ length: 80 }, (_, n) => n),
      maxVoxels: 16 * 1024 * 1024,
      timeoutMs: 5000,
      memoryBudgetMb: 1536,
    });
    const failures = [...distinctFailures(results)].map(
      ([key, cases]) => `${cases.length} x ${key} (case ${cases[0].index}: ${cases[0].mutation})`,
    );
    expect(failures).toEqual([]);
    expect(results.filter((r) => r.outcome === 'loaded').length).toBeGreaterThan(0);
    expect(results.filter((r) => r.outcome === 'refused').length).toBeGreaterThan(40);
  }, 300_000);
});
