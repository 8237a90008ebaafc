/// <reference lib="webworker" />
/** The inference worker: owns the onnxruntime-web sessions and the engine (see inference-service.ts). */
import * as Comlink from 'comlink';
import { InferenceService } from './inference-service';

Comlink.expose(new InferenceService());
