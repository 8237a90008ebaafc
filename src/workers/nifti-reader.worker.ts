/**
 * Reads a NIfTI file's voxels off the main thread (see src/io/nifti-fast.ts for the protocol):
 * streams the file, inflates it when gzip-compressed, and transfers the voxel buffer back.
 */
import { decodeNiftiStream } from '../io/nifti-stream';
import type { NiftiReaderReply, NiftiReaderRequest } from '../io/nifti-fast';
import { LoadError } from '../core/validate';

const post = (reply: NiftiReaderReply, transfer: Transferable[] = []) => self.postMessage(reply, { transfer });

/** Bytes per read: a few hundred progress steps on a large scan, few enough calls to cost nothing. */
const CHUNK_BYTES = 4 << 20;

/**
 * The file's bytes in chunks, the next one read while the current one is decoded (Blob slices:
 * Chromium's File.stream() hands out 64 KiB chunks, which took twice as long on a 150 MB file).
 */
async function* chunksOf(file: File): AsyncGenerator<Uint8Array> {
  let next = file.slice(0, CHUNK_BYTES).arrayBuffer();
  for (let offset = 0; offset < file.size; offset += CHUNK_BYTES) {
    const current = await next;
    if (offset + CHUNK_BYTES < file.size) next = file.slice(offset + CHUNK_BYTES, offset + 2 * CHUNK_BYTES).arrayBuffer();
    yield new Uint8Array(current);
  }
}

self.onmessage = async (event: MessageEvent<NiftiReaderRequest>) => {
  const { file, gzipped, maxVoxels } = event.data;
  let reported = 0;
  try {
    const { voxels } = await decodeNiftiStream(file.name, chunksOf(file), {
      gzipped,
      maxVoxels,
      onHeader: (header, layout, decoding) => post({ kind: 'header', header, layout, decoding }),
      onBytesRead: (bytes) => {
        // About a hundred progress messages per file.
        if (bytes - reported < file.size / 100) return;
        reported = bytes;
        post({ kind: 'progress', fraction: bytes / file.size });
      },
    });
    if (voxels) post({ kind: 'voxels', voxels }, [voxels.buffer]);
  } catch (error) {
    post({ kind: 'error', reason: error instanceof LoadError ? error.reason : null, message: String(error) });
  }
};
