/** Node side of the checkpoint reader: a local file read in ranges, never loaded whole. */
import { open, type FileHandle } from 'node:fs/promises';
import { checkRange, type ByteSource } from '../core/pth/byte-source';

export interface FileByteSource extends ByteSource {
  close(): Promise<void>;
}

export async function openFileSource(path: string): Promise<FileByteSource> {
  const handle: FileHandle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      checkRange(size, offset, length);
      const bytes = new Uint8Array(length);
      for (let done = 0; done < length;) {
        const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`${path} shrank while being read`);
        done += bytesRead;
      }
      return bytes;
    },
    close: () => handle.close(),
  };
}
