/**
 * Runs fuzz cases (tests/support/fuzz.ts) through the app's Node reader in a child process with
 * a watchdog: a case that takes longer than the time limit is a hang (the child is killed and a
 * fresh one continues), a child that dies is a crash, and the child's peak memory is checked
 * against the budget after every case.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeCase } from './fuzz';

export interface CaseRequest {
  seed: number;
  index: number;
  dir: string;
  maxVoxels: number;
}

export interface CaseResult {
  index: number;
  mutation: string;
  /** loaded with a valid geometry / refused with a LoadError naming the file / anything else. */
  outcome: 'loaded' | 'refused' | 'failure';
  detail: string;
  ms: number;
  /** Peak resident memory of the reading process so far. */
  maxRssMb: number;
}

export interface FuzzOptions {
  seed: number;
  /** Case indices to run. */
  indices: number[];
  /** Voxel budget given to the reader (the app's validation option). */
  maxVoxels: number;
  /** A case running longer is a hang. */
  timeoutMs: number;
  /** Peak resident memory of the reading process allowed. */
  memoryBudgetMb: number;
  onResult?: (result: CaseResult) => void;
}

const CHILD = path.join(import.meta.dirname, 'fuzz-child.ts');

function startChild(): Promise<ChildProcess> {
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the fuzz child exited (${code}) before it was ready`)));
  });
}

/** Runs the cases one by one; every case gets a result, hangs and crashes included. */
export async function runFuzz(options: FuzzOptions): Promise<CaseResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fuzz-'));
  const results: CaseResult[] = [];
  let child: ChildProcess | null = null;
  try {
    for (const index of options.indices) {
      child ??= await startChild();
      const running = child;
      const request: CaseRequest = { seed: options.seed, index, dir, maxVoxels: options.maxVoxels };
      const result = await new Promise<CaseResult>((resolve) => {
        const failed = (detail: string, ms: number) =>
          resolve({ index, mutation: makeCase(options.seed, index).mutation, outcome: 'failure', detail, ms, maxRssMb: NaN });
        const started = performance.now();
        const timer = setTimeout(() => {
          running.removeAllListeners();
          running.kill('SIGKILL');
          child = null;
          failed(`hang: no answer within ${options.timeoutMs} ms`, options.timeoutMs);
        }, options.timeoutMs);
        running.once('message', (message: CaseResult) => {
          clearTimeout(timer);
          running.removeAllListeners('exit');
          resolve(message);
        });
        running.once('exit', (code, signal) => {
          clearTimeout(timer);
          running.removeAllListeners('message');
          child = null;
          failed(`crash: the reading process died (${signal ?? `exit code ${code}`})`, performance.now() - started);
        });
        running.send(request);
      });
      if (result.outcome !== 'failure' && result.maxRssMb > options.memoryBudgetMb) {
        result.outcome = 'failure';
        result.detail = `memory: peak ${result.maxRssMb.toFixed(0)} MB over the ${options.memoryBudgetMb} MB budget (${result.detail})`;
        // Later cases would inherit the peak: start them in a fresh process.
        child?.kill('SIGKILL');
        child = null;
      }
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    (child as ChildProcess | null)?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** Distinct failures (the detail with numbers blanked) and how many cases hit each. */
export function distinctFailures(results: CaseResult[]): Map<string, CaseResult[]> {
  const groups = new Map<string, CaseResult[]>();
  for (const result of results.filter((r) => r.outcome === 'failure')) {
    const key = result.detail.replace(/\d+(\.\d+)?/g, 'N');
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  return groups;
}
