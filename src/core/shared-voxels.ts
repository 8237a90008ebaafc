import type { VoxelArray } from './types';

/** Whether the voxels sit in a SharedArrayBuffer: a worker can read them without a copy of its own. */
export function isShared(data: VoxelArray): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
}

/**
 * The same voxels in a SharedArrayBuffer where the platform has one (a cross-origin isolated
 * page, workers, Node), otherwise `data` itself. A 512 x 512 x 300 CT is 150 MB: shared, the page
 * and the inference worker hold it once instead of twice.
 */
export function shareVoxels<T extends VoxelArray>(data: T): T {
  if (typeof SharedArrayBuffer === 'undefined' || isShared(data)) return data;
  const ArrayType = data.constructor as new (buffer: SharedArrayBuffer) => T;
  const shared = new ArrayType(new SharedArrayBuffer(data.byteLength));
  (shared as unknown as { set(source: ArrayLike<number>): void }).set(data);
  return shared;
}

/** A zeroed byte grid, in a SharedArrayBuffer where the platform has one (see shareVoxels). */
export function sharedZeros(length: number): Uint8Array {
  return typeof SharedArrayBuffer === 'undefined' ? new Uint8Array(length) : new Uint8Array(new SharedArrayBuffer(length));
}

/**
 * The voxels in a plain ArrayBuffer: a copy when they are shared. Blob, File, IndexedDB and
 * transfers refuse views of shared memory.
 */
export function plainVoxels<T extends VoxelArray>(data: T): T {
  return isShared(data) ? (data.slice() as T) : data;
}
