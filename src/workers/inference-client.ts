/** Starts the inference worker and returns its typed remote interface (main thread). */
import * as Comlink from 'comlink';
import type { InferenceApi } from './inference-api';

export type InferenceClient = Comlink.Remote<InferenceApi>;

export function createInferenceClient(): { client: InferenceClient; terminate: () => void } {
  const worker = new Worker(new URL('./inference.worker.ts', import.meta.url), { type: 'module', name: 'inference' });
  return { client: Comlink.wrap<InferenceApi>(worker), terminate: () => worker.terminate() };
}
