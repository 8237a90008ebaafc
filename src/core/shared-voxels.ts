import type { VoxelArray } from './types';

/** Whether the voxels sit in a SharedArrayBuffer: a worker can read them without a copy of its own. */
export function isShared(data: VoxelArray): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
}

/** A voxel array type (Int16Array, Float32Array...): what sharedArray allocates. */
export type VoxelArrayType<T extends VoxelArray = VoxelArray> = { new (buffer: ArrayBufferLike): T; BYTES_PER_ELEMENT: number };

/**
 * A zeroed voxel array, in a SharedArrayBuffer where the platform has one (a cross-origin isolated
 * page, workers, Node): readers allocate the volume there directly, so the page and the inference
 * worker share it without a copy (a 512 x 512 x 300 CT is 150 MB; copying it took over half a
 * second on the main thread).
 */
export function sharedArray<T extends VoxelArray>(Type: VoxelArrayType<T>, length: number): T {
  const bytes = length * Type.BYTES_PER_ELEMENT;
  return new Type(typeof SharedArrayBuffer === 'undefined' ? new ArrayBuffer(bytes) : new SharedArrayBuffer(bytes));
}

/** The same voxels in shared memory where the platform has it (see sharedArray), otherwise `data` itself. */
export function shareVoxels<T extends VoxelArray>(data: T): T {
  if (typeof SharedArrayBuffer === 'undefined' || isShared(data)) return data;
  const shared = sharedArray(data.constructor as VoxelArrayType<T>, data.length);
  (shared as unknown as { set(source: ArrayLike<number>): void }).set(data);
  return shared;
}

/** A zeroed byte grid, in a SharedArrayBuffer where the platform has one (see sharedArray). */
export function sharedZeros(length: number): Uint8Array {
  return sharedArray(Uint8Array, length);
}

/**
 * Reads one byte of each 4 KiB page, so that the memory is mapped before anyone needs it: a fresh
 * SharedArrayBuffer costs a page fault on the first touch of each page, about 10 us here (200 ms
 * for a 512 x 512 x 300 labelmap), and a thread that reads it maps it for all threads. Meant for a
 * worker, so that the main thread's first overlay and mask writes do not pay those faults.
 */
export function touchPages(bytes: Uint8Array): number {
  let seen = 0;
  // The OR of what was read is returned so that no compiler drops the reads.
  for (let i = 0; i < bytes.length; i += 4096) seen |= bytes[i];
  return seen;
}

/**
 * The voxels in a plain ArrayBuffer: a copy when they are shared. Blob, File, IndexedDB and
 * transfers refuse views of shared memory.
 */
export function plainVoxels<T extends VoxelArray>(data: T): T {
  return isShared(data) ? (data.slice() as T) : data;
}
