/** Minimal .npy reader for the fixtures: little-endian float32 / uint8, C-order; `.npy.gz` gunzipped. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface NpyArray {
  shape: number[];
  data: Float32Array | Uint8Array;
}

export function readNpy(file: string): NpyArray {
  const bytes = file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .filter((s) => s.trim())
    .map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order not supported`);
  const body = bytes.subarray(10 + headerLength);
  const copy = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
  if (descr === '<f4') return { shape, data: new Float32Array(copy) };
  if (descr === '|u1') return { shape, data: new Uint8Array(copy) };
  throw new Error(`${file}: unsupported dtype ${descr}`);
}

/** A float32 .npy array (throws for any other dtype). */
export function readNpyFloat32(file: string): { shape: number[]; data: Float32Array } {
  const { shape, data } = readNpy(file);
  if (!(data instanceof Float32Array)) throw new Error(`${file}: not a float32 array`);
  return { shape, data };
}
