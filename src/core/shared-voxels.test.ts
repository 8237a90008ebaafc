import { describe, expect, it } from 'vitest';
import { isShared, shareVoxels } from './shared-voxels';

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
