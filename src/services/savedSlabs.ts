/**
 * How autosave keeps a slab of the labelmap: run-length coded (the run lengths, then the values),
 * or raw when coding would not make it smaller (noise), in a Blob. IndexedDB's put copies the
 * session synchronously on the main thread, a Blob by reference: plain arrays of a noisy
 * labelmap's slabs (2 MB each) made a save a 300 ms task (first click of bench:segment, CPU profile).
 */
import { encodeRunsIfSmaller } from '../core/segmentation/region';
import type { BoxValues } from '../core/segmentation/voxel-patch';
import { plainVoxels } from '../core/shared-voxels';

export interface SavedSlab {
  coding: 'runs' | 'raw';
  bytes: Blob;
}

export function codeSlab(voxels: Uint8Array): SavedSlab {
  // A Blob takes no shared memory: the runs are new arrays, the labelmap's slab is copied.
  const runs = encodeRunsIfSmaller(voxels);
  const parts = runs ? [runs.lengths, runs.values] : [plainVoxels(voxels)];
  return { coding: runs ? 'runs' : 'raw', bytes: new Blob(parts as ArrayBufferView<ArrayBuffer>[]) };
}

/** The slab of `length` zeros, without reading it. */
export function emptySlab(length: number): SavedSlab {
  return { coding: 'runs', bytes: new Blob([Uint32Array.of(length), new Uint8Array(1)]) };
}

/** A saved slab's coded values, as SavedSlab or as slabs were saved before it (the coded arrays). */
export async function slabValues(slab: SavedSlab | BoxValues): Promise<BoxValues> {
  if (!('coding' in slab)) return slab;
  const buffer = await slab.bytes.arrayBuffer();
  if (slab.coding === 'raw') return new Uint8Array(buffer);
  const runs = buffer.byteLength / 5;
  return { lengths: new Uint32Array(buffer, 0, runs), values: new Uint8Array(buffer, 4 * runs, runs) };
}
