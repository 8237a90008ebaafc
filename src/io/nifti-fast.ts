/**
 * The fast way to open a NIfTI file in the browser: a worker reads the header, places the image
 * in the world (qform or sform, as ITK does), validates it like every reader, and reads the voxels
 * into their final buffer (src/workers/nifti-reader.worker.ts, src/io/nifti-decode.ts). Measured
 * with `npm run bench:load`: itk-wasm's full read copies the file into its worker, into
 * WebAssembly memory and back out through shared memory, and loading its pipeline alone took
 * seconds on a busy machine. Files whose header leaves room for interpretation go to itk-wasm.
 */
import type { Volume } from '../core/types';
import { LoadError, type ValidationOptions } from '../core/validate';
import { decodeError } from './read-errors';
import type { ProgressCallback } from './types';

export interface NiftiReaderRequest {
  file: File;
  gzipped: boolean;
  options: ValidationOptions;
}

export type NiftiReaderReply =
  | { kind: 'progress'; fraction: number }
  | { kind: 'volume'; volume: Volume }
  | { kind: 'unsupported' }
  | { kind: 'error'; reason: string | null; message: string };

/**
 * Reads a NIfTI file (.nii or .nii.gz, already through the preflight checks) in a worker.
 * Resolves null when that reader does not handle the file (e.g. scaled intensities, big-endian
 * data, both qform and sform set but different): read it with itk-wasm instead. Throws a LoadError
 * naming the file when the image is unusable or its data is corrupt.
 */
export function readNiftiInWorker(
  file: File,
  gzipped: boolean,
  onProgress?: ProgressCallback,
  options: ValidationOptions = {},
): Promise<Volume | null> {
  const worker = new Worker(new URL('../workers/nifti-reader.worker.ts', import.meta.url), { type: 'module', name: 'nifti-reader' });
  onProgress?.({ phase: 'reading' });
  return new Promise<Volume | null>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<NiftiReaderReply>) => {
      const reply = event.data;
      if (reply.kind === 'progress') onProgress?.({ phase: 'decoding', fraction: reply.fraction });
      else if (reply.kind === 'volume') {
        onProgress?.({ phase: 'converting' });
        resolve(reply.volume);
      } else if (reply.kind === 'unsupported') resolve(null);
      else reject(reply.reason ? new LoadError(file.name, reply.reason) : decodeError(file.name, 'nifti', new Error(reply.message)));
    };
    // The worker could not start (e.g. its script failed to load): itk-wasm reads the file instead.
    worker.onerror = () => resolve(null);
    worker.postMessage({ file, gzipped, options } satisfies NiftiReaderRequest);
  }).finally(() => worker.terminate());
}
