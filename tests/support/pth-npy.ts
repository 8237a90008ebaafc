// Reads the fixtures' little-endian float32 .npy arrays (C order) for the checkpoint tests.
import { readFile } from 'node:fs/promises';

export async function readNpyFloat32(path: string): Promise<{ shape: number[]; data: Float32Array }> {
  const bytes = await readFile(path);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) throw new Error(`${path}: not a C-order float32 array`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .filter((part) => part.trim() !== '')
    .map(Number);
  const start = 10 + headerLength;
  return { shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.byteLength)) };
}
