/**
 * DICOM files read off the main thread (src/workers/dicom-files.worker.ts): each file's bytes and
 * its header. On the main thread, File.size asks the browser for the file's metadata
 * synchronously and every read and header parse is a task of its own: a 300-file series held the
 * page for hundreds of milliseconds at a time. The worker hands each file's bytes over as it
 * finishes (transferred, not copied).
 */
import { yieldToEventLoop } from '../core/yield';
import type { DicomObject } from './dicom-header';

/** A file's bytes and what its header says, when it is a DICOM Part 10 file (null otherwise). */
export interface ReadDicomFile {
  bytes: Uint8Array | null;
  object: DicomObject | null;
}

/** Files `first`, `first + 1`... of the list to read. */
export interface DicomFilesRequest {
  first: number;
  files: File[];
}

export type DicomFilesReply = { kind: 'file'; index: number; file: ReadDicomFile } | { kind: 'error'; message: string };

/**
 * Files per message to the worker: posting a File makes the browser look up its metadata
 * synchronously (about 0.3 ms a file here), so 300 files in one message blocked for 100 ms.
 */
const FILES_PER_MESSAGE = 32;

/** Reads `files` in a worker; `onFile` gets each one as it is read (in any order). */
export function readDicomFilesInWorker(files: File[], onFile: (index: number, file: ReadDicomFile) => void): Promise<void> {
  if (files.length === 0) return Promise.resolve();
  const worker = new Worker(new URL('../workers/dicom-files.worker.ts', import.meta.url), { type: 'module', name: 'dicom-files' });
  let left = files.length;
  return new Promise<void>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<DicomFilesReply>) => {
      const reply = event.data;
      if (reply.kind === 'error') reject(new Error(reply.message));
      else {
        onFile(reply.index, reply.file);
        if (--left === 0) resolve();
      }
    };
    worker.onerror = (event) => reject(new Error(event.message || 'the DICOM file reader could not start'));
    void (async () => {
      for (let first = 0; first < files.length; first += FILES_PER_MESSAGE) {
        worker.postMessage({ first, files: files.slice(first, first + FILES_PER_MESSAGE) } satisfies DicomFilesRequest);
        await yieldToEventLoop();
      }
    })();
  }).finally(() => worker.terminate());
}
