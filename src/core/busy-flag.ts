/**
 * A count in shared memory that one thread raises while it does urgent work, and that threads doing
 * background work read to keep out of its way. Null where memory cannot be shared (a page that is
 * not cross-origin isolated): then nobody waits.
 */
export type BusyFlag = Int32Array;

export function createBusyFlag(): BusyFlag | null {
  return typeof SharedArrayBuffer === 'undefined' ? null : new Int32Array(new SharedArrayBuffer(4));
}

/** Runs `work` with the flag raised (nested and overlapping runs count); waiters (Atomics.wait) are woken at each change. */
export async function whileBusy<T>(flag: BusyFlag | null, work: () => Promise<T>): Promise<T> {
  change(flag, 1);
  try {
    return await work();
  } finally {
    change(flag, -1);
  }
}

function change(flag: BusyFlag | null, by: 1 | -1): void {
  if (!flag) return;
  Atomics.add(flag, 0, by);
  Atomics.notify(flag, 0);
}

export function isBusy(flag: BusyFlag | null): boolean {
  return flag !== null && Atomics.load(flag, 0) > 0;
}

/** The flags the inference worker raises while its model runs (see ModelRunner announceRunsIn). */
export interface ModelRunFlags {
  /** Raised while the decoder runs: short, and the user waits for it. */
  decoding: BusyFlag | null;
  /** Raised while the encoder runs: seconds a patch on a CPU. */
  encoding: BusyFlag | null;
}

export function createModelRunFlags(): ModelRunFlags {
  return { decoding: createBusyFlag(), encoding: createBusyFlag() };
}
