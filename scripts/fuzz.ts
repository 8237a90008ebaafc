/**
 * npm run fuzz -- [--cases 2000] [--seed 1] [--from 0] [--case N]
 * Mutation fuzzing of the image loaders (tests/support/fuzz.ts) through the app's Node reader
 * and validation: every case must load with a valid geometry or be refused with a LoadError
 * naming the file, within 5 s of CPU time and the memory budget. Prints each failure, the outcome counts
 * and the distinct failures; exits 1 when there is any.
 */
import { parseArgs } from 'node:util';
import { distinctFailures, runFuzz, type CaseResult } from '../tests/support/fuzz-runner';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
    from: { type: 'string', default: '0' },
    case: { type: 'string' },
  },
});
const seed = Number(values.seed);
const from = Number(values.from);
const indices = values.case !== undefined ? [Number(values.case)] : Array.from({ length: Number(values.cases) }, (_, n) => from + n);
/** 16 M voxels: the reader's budget here; the app's default is 262 M. */
const MAX_VOXELS = 16 * 1024 * 1024;
const MEMORY_BUDGET_MB = 1536;
console.log(
  `Fuzzing ${indices.length} cases, seed ${seed}: voxel budget ${MAX_VOXELS}, memory budget ${MEMORY_BUDGET_MB} MB, 5 s of CPU time per case`,
);
const started = performance.now();
const results: CaseResult[] = [];
// Stopped early (Ctrl+C, kill): report the cases run so far.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => report(true));
await runFuzz({
  seed,
  indices,
  maxVoxels: MAX_VOXELS,
  timeoutMs: 5000,
  memoryBudgetMb: MEMORY_BUDGET_MB,
  onResult: (r) => {
    results.push(r);
    if (r.outcome === 'failure' || indices.length === 1) console.log(`case ${r.index} [${r.mutation}] ${r.outcome}: ${r.detail}`);
  },
});
report(false);

function report(stopped: boolean): never {
  const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
  const slowest = results.reduce((a, b) => (b.ms > a.ms ? b : a));
  const peak = Math.max(...results.map((r) => r.maxRssMb).filter(Number.isFinite));
  console.log(
    `\n${results.length} cases in ${((performance.now() - started) / 1000).toFixed(0)} s: ${count('loaded')} loaded, ${count('refused')} refused, ${count('failure')} failures`,
  );
  console.log(
    `slowest case ${slowest.index} (${slowest.ms.toFixed(0)} ms of CPU, ${slowest.mutation}); peak memory of a reading process ${peak.toFixed(0)} MB`,
  );
  const reasons = new Map<string, number>();
  for (const r of results.filter((r) => r.outcome === 'refused')) {
    const key = r.detail.replace(/\d+(\.\d+)?/g, 'N').slice(0, 110);
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  console.log('\nrefusal reasons:');
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${reason}`);
  const failures = distinctFailures(results);
  if (failures.size) {
    console.log('\ndistinct failures:');
    for (const [key, cases] of failures)
      console.log(`  ${String(cases.length).padStart(5)}  ${key} (e.g. case ${cases[0].index}: ${cases[0].mutation})`);
  }
  if (stopped) console.log(`\nStopped early: ${results.length} of ${indices.length} cases run.`);
  process.exit(failures.size || stopped ? 1 : 0);
}
