/**
 * Runs fuzz cases (tests/support/fuzz.ts) through the app's Node reader in a child process with
 * a watchdog: a case that uses more CPU time than the limit is a hang (the child is killed and a
 * fresh one continues), a child that dies is a crash, and the child's peak memory is checked
 * against the budget after every case. CPU time, not wall time: on a shared, loaded machine a
 * healthy read can wait seconds for a core. A case stuck without using CPU (a deadlock) is a
 * hang after 24 times the limit of wall time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  /** CPU time the case took. */
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
  /** A case using more CPU time is a hang. */
  timeoutMs: number;
  /** Peak resident memory of the reading process allowed. */
  memoryBudgetMb: number;
  onResult?: (result: CaseResult) => void;
}

const CHILD = path.join(import.meta.dirname, 'fuzz-child.ts');

/** CPU time (user + system) a process has used so far, in ms (Linux /proc). */
function cpuTimeMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

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
        const cpuAtStart = cpuTimeMs(running.pid!);
        const timer = setInterval(() => {
          const cpu = cpuTimeMs(running.pid!) - cpuAtStart;
          const wall = performance.now() - started;
          if (cpu <= options.timeoutMs && wall <= 24 * options.timeoutMs) return;
          clearInterval(timer);
          running.removeAllListeners();
          running.kill('SIGKILL');
          child = null;
          failed(`hang: no answer after ${cpu.toFixed(0)} ms of CPU time (${wall.toFixed(0)} ms wall)`, wall);
        }, 250);
        running.once('message', (message: CaseResult) => {
          clearInterval(timer);
          running.removeAllListeners('exit');
          resolve(message);
        });
        running.once('exit', (code, signal) => {
          clearInterval(timer);
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
