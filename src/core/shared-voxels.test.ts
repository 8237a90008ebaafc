import { describe, expect, it } from 'vitest';
import { Segmentation } from './segmentation/segmentation';
import { isShared, plainVoxels, shareVoxels, sharedZeros } from './shared-voxels';

describe('shareVoxels', () => {
  it('copies the voxels into a SharedArrayBuffer once, keeping the type and values', () => {
    const data = Int16Array.from([-1024, 0, 3071, 7]);
    const shared = shareVoxels(data);
    expect(isShared(data)).toBe(false);
    expect(isShared(shared)).toBe(true);
    expect(shared).toBeInstanceOf(Int16Array);
    expect(Array.from(shared)).toEqual([-1024, 0, 3071, 7]);
    expect(shareVoxels(shared)).toBe(shared);
  });
});

describe('sharedZeros and plainVoxels', () => {
  it('a labelmap lives in shared memory; its plain copy can go where shared memory cannot', () => {
    const labels = new Segmentation({ size: [4, 3, 2], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] })
      .labels;
    expect(isShared(labels)).toBe(true);
    expect(isShared(sharedZeros(8))).toBe(true);
    labels[5] = 3;
    const plain = plainVoxels(labels);
    expect(isShared(plain)).toBe(false);
    expect(plain).not.toBe(labels);
    expect(Array.from(plain)).toEqual(Array.from(labels));
    // Structured cloning (IndexedDB, a worker transfer) refuses shared memory, not the copy.
    expect(() => structuredClone(plain, { transfer: [plain.buffer] })).not.toThrow();
    expect(() => structuredClone(labels, { transfer: [labels.buffer as ArrayBuffer] })).toThrow();
    const unsharedAlready = Uint8Array.from([1, 2]);
    expect(plainVoxels(unsharedAlready)).toBe(unsharedAlready);
  });
});
