/**
 * Reads a NIfTI file off the main thread for src/io/nifti-fast.ts: its header, our validation of
 * the image it describes, then its voxels, in shared memory the page receives without a copy
 * (transferred where the page has no shared memory). The voxels of a plain file are read in one
 * piece: in Chromium, reading 150 MB as slices or as a stream and copying them into one buffer
 * took 2 to 4 times as long.
 */
import { isShared } from '../core/shared-voxels';
import { assertUsableImage, LoadError } from '../core/validate';
import { readNiftiHeader, readNiftiVoxels } from '../io/nifti-decode';
import type { NiftiReaderReply, NiftiReaderRequest } from '../io/nifti-fast';

const post = (reply: NiftiReaderReply, transfer: Transferable[] = []) => self.postMessage(reply, { transfer });

async function read({ file, gzipped, options }: NiftiReaderRequest): Promise<void> {
  const source = { name: file.name, size: file.size, gzipped, read: (start: number, end: number) => file.slice(start, end).arrayBuffer() };
  const { layout } = await readNiftiHeader(source);
  if (!layout) {
    post({ kind: 'unsupported' });
    return;
  }
  const { size, spacing, origin, direction } = layout.geometry;
  assertUsableImage(file.name, { dimension: 3, size, spacing, origin, direction, components: 1, componentType: layout.type }, options);
  let reported = 0;
  const voxels = await readNiftiVoxels(source, layout, (fraction) => {
    if (fraction - reported < 0.01 && fraction < 1) return;
    reported = fraction;
    post({ kind: 'progress', fraction });
  });
  post({ kind: 'volume', volume: { geometry: layout.geometry, data: voxels } }, isShared(voxels) ? [] : [voxels.buffer as ArrayBuffer]);
}

self.onmessage = (event: MessageEvent<NiftiReaderRequest>) => {
  read(event.data).catch((error: unknown) =>
    post({ kind: 'error', reason: error instanceof LoadError ? error.reason : null, message: String(error) }),
  );
};
