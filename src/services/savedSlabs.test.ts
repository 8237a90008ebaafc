import { describe, expect, it } from 'vitest';
import { rawValues } from '../core/segmentation/voxel-patch';
import { codeSlab, emptySlab, slabValues } from './savedSlabs';

async function roundTrip(voxels: Uint8Array) {
  const slab = codeSlab(voxels);
  return { coding: slab.coding, back: rawValues(await slabValues(slab), voxels.length) };
}

describe('autosave slabs', () => {
  it('keep a compact mask run-length coded and a noisy one raw, and give both back exactly', async () => {
    const compact = new Uint8Array(100_000);
    compact.fill(3, 20_000, 45_000);
    compact.fill(1, 60_000, 60_007);
    let seed = 1;
    const noise = Uint8Array.from({ length: 100_000 }, () => (seed = (seed * 16807) % 2147483647) % 3);
    // The labelmap lives in shared memory in the app: a Blob refuses views of it.
    const shared = new Uint8Array(new SharedArrayBuffer(noise.length));
    shared.set(noise);
    expect(await roundTrip(compact)).toEqual({ coding: 'runs', back: compact });
    expect(await roundTrip(noise)).toEqual({ coding: 'raw', back: noise });
    expect(await roundTrip(shared)).toEqual({ coding: 'raw', back: noise });
    expect(rawValues(await slabValues(emptySlab(5000)), 5000)).toEqual(new Uint8Array(5000));
  });

  it('read slabs saved before they were Blobs (the coded arrays themselves)', async () => {
    const runs = { values: Uint8Array.of(0, 2), lengths: Uint32Array.of(3, 2) };
    expect(rawValues(await slabValues(runs), 5)).toEqual(Uint8Array.of(0, 0, 0, 2, 2));
  });
});
