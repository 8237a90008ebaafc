/** Reads DICOM files and their headers for src/io/dicom-files.ts, several files at a time. */
import { isDicomPart10 } from '../core/formats';
import { inspectDicom } from '../io/dicom-header';
import type { DicomFilesReply, DicomFilesRequest } from '../io/dicom-files';

/** Files read at the same time. */
const PARALLEL_FILE_READS = 32;

/** Files larger than this are read only when their preamble says DICOM (a video in a folder...). */
const READ_WHOLE_BYTES = 4 << 20;

/** A DICOM Part 10 file's bytes, or null for another file; small files are read in one go. */
async function dicomPart10Bytes(file: File): Promise<Uint8Array | null> {
  if (file.size > READ_WHOLE_BYTES && !isDicomPart10(new Uint8Array(await file.slice(0, 132).arrayBuffer()))) return null;
  const bytes = new Uint8Array(await file.arrayBuffer());
  return isDicomPart10(bytes.subarray(0, 132)) ? bytes : null;
}

const post = (reply: DicomFilesReply, transfer: Transferable[] = []) => self.postMessage(reply, { transfer });

const queue: { index: number; file: File }[] = [];
let reading = 0;

async function read(index: number, file: File): Promise<void> {
  try {
    const bytes = await dicomPart10Bytes(file);
    post({ kind: 'file', index, file: { bytes, object: bytes && inspectDicom(bytes) } }, bytes ? [bytes.buffer] : []);
  } catch (error) {
    post({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}

/** Starts reading queued files while fewer than PARALLEL_FILE_READS are under way. */
function readQueued(): void {
  while (reading < PARALLEL_FILE_READS && queue.length > 0) {
    const { index, file } = queue.shift()!;
    reading++;
    void read(index, file).finally(() => {
      reading--;
      readQueued();
    });
  }
}

self.onmessage = ({ data: { first, files } }: MessageEvent<DicomFilesRequest>) => {
  files.forEach((file, n) => queue.push({ index: first + n, file }));
  readQueued();
};
