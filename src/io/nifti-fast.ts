/**
 * The fast way to open a NIfTI file in the browser: a worker streams the voxels straight into
 * their buffer (src/workers/nifti-reader.worker.ts) while itk-wasm reads only the header, so the
 * geometry and the validation are exactly those of the full itk-wasm read. Measured with
 * `npm run bench:load`; itk-wasm's full read copies the file into its worker, into WebAssembly
 * memory and back out through shared memory, which took several times the bytes' read time.
 */
import { niftiReadImage } from '@itk-wasm/image-io';
import type { Volume, VoxelArray } from '../core/types';
import { assertUsableImage, DEFAULT_MAX_VOXELS, geometryFromInfo, LoadError, type ValidationOptions } from '../core/validate';
import { describeItkImage } from './itk-image';
import type { NiftiVoxelLayout } from './nifti-stream';
import { decodeError, unreadableError } from './read-errors';
import type { ProgressCallback } from './types';

export interface NiftiReaderRequest {
  file: File;
  gzipped: boolean;
  maxVoxels: number;
}

export type NiftiReaderReply =
  | { kind: 'header'; header: Uint8Array; layout: NiftiVoxelLayout | null; decoding: boolean }
  | { kind: 'progress'; fraction: number }
  | { kind: 'voxels'; voxels: VoxelArray }
  | { kind: 'error'; reason: string | null; message: string };

type Awaited = Exclude<NiftiReaderReply, { kind: 'progress' }>;

/** The worker's replies in order, with progress passed on as it comes. */
function replies(worker: Worker, onProgress?: ProgressCallback): () => Promise<Awaited> {
  const queue: Awaited[] = [];
  let waiting: { resolve: (reply: Awaited) => void; reject: (error: Error) => void } | null = null;
  let failure: Error | null = null;
  worker.onmessage = (event: MessageEvent<NiftiReaderReply>) => {
    const reply = event.data;
    if (reply.kind === 'progress') onProgress?.({ phase: 'reading', fraction: reply.fraction });
    else if (waiting) waiting.resolve(reply);
    else queue.push(reply);
    if (reply.kind !== 'progress') waiting = null;
  };
  worker.onerror = (event) => {
    failure = new Error(event.message || 'the NIfTI reader worker failed to start');
    waiting?.reject(failure);
  };
  return () =>
    new Promise<Awaited>((resolve, reject) => {
      const next = queue.shift();
      if (next) resolve(next);
      else if (failure) reject(failure);
      else waiting = { resolve, reject };
    });
}

function workerFailure(fileName: string, reply: Extract<NiftiReaderReply, { kind: 'error' }>): Error {
  return reply.reason ? new LoadError(fileName, reply.reason) : decodeError(fileName, 'nifti', new Error(reply.message));
}

/**
 * Reads a NIfTI file (.nii or .nii.gz, already through the preflight checks) with the streaming
 * reader. Resolves null when that reader does not handle the file (e.g. scaled intensities or
 * big-endian data): read it with itk-wasm instead. Throws a LoadError naming the file when the
 * image is unusable or its data is corrupt. Call after configureItkWasm().
 */
export async function readNiftiStreaming(
  file: File,
  gzipped: boolean,
  onProgress?: ProgressCallback,
  options: ValidationOptions = {},
): Promise<Volume | null> {
  const worker = new Worker(new URL('../workers/nifti-reader.worker.ts', import.meta.url), { type: 'module', name: 'nifti-reader' });
  try {
    const next = replies(worker, onProgress);
    const request: NiftiReaderRequest = { file, gzipped, maxVoxels: options.maxVoxels ?? DEFAULT_MAX_VOXELS };
    worker.postMessage(request);
    const first = await next();
    if (first.kind === 'error') throw workerFailure(file.name, first);
    if (first.kind !== 'header' || !first.layout) return null;
    // itk-wasm reads the header alone while the worker goes on reading the voxels.
    const headerFile = { path: file.name.replace(/\.gz$/i, ''), data: first.header };
    let result;
    try {
      result = await niftiReadImage(headerFile, { informationOnly: true, noCopy: true });
    } catch (error) {
      throw decodeError(file.name, 'nifti', error);
    }
    if (!result.couldRead) throw unreadableError(file.name, 'nifti');
    const info = describeItkImage(result.image);
    assertUsableImage(file.name, info, options);
    const itkVoxels = info.size.reduce((a, b) => a * b, 1);
    // Anything ITK would read differently (another voxel type or count) is left to ITK.
    if (!first.decoding || info.componentType !== first.layout.type || itkVoxels !== first.layout.voxelCount) return null;
    const last = await next();
    if (last.kind === 'error') throw workerFailure(file.name, last);
    if (last.kind !== 'voxels') return null;
    return { geometry: geometryFromInfo(info), data: last.voxels };
  } finally {
    worker.terminate();
  }
}
