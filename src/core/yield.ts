/**
 * Lets the event loop run (input, rendering) between the parts of a long computation on the main
 * thread: scheduler.yield where the platform has it (Chromium; it continues before other queued
 * tasks and has no timer clamp, where chained zero timeouts wait 4 ms each), else a zero timeout.
 */
export function yieldToEventLoop(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  return scheduler?.yield ? scheduler.yield() : new Promise((resolve) => setTimeout(resolve, 0));
}
