import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { encodeNifti } from '../../tests/support/raw-writers';
import type { Volume } from '../core/types';
import { niftiTruncationProblem } from './nifti-truncation';

const volume: Volume<Int16Array> = {
  geometry: { size: [20, 10, 6], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
  data: Int16Array.from({ length: 1200 }, (_, n) => n),
};

function check(file: Uint8Array): string | null {
  return niftiTruncationProblem(file.subarray(0, 64 * 1024), file.subarray(Math.max(0, file.length - 4)), file.length);
}

describe('NIfTI truncation check', () => {
  const nii = encodeNifti(volume.geometry, volume.data);
  const gz = gzipSync(nii);

  it('accepts complete files', () => {
    expect(check(nii)).toBeNull();
    expect(check(gz)).toBeNull();
  });

  it('reports truncated uncompressed files with their sizes', () => {
    expect(check(nii.subarray(0, nii.length - 1))).toBe(`the file is truncated (${nii.length - 1} bytes, its header needs ${nii.length})`);
  });

  it('reports truncated compressed files and compressed truncated files', () => {
    expect(check(gz.subarray(0, gz.length - 100))).toMatch(/truncated or corrupt/);
    expect(check(gzipSync(nii.subarray(0, 2000)))).toMatch(/truncated or corrupt/);
  });

  it('cannot tell for a gzip whose last member is empty (BGZF end block)', () => {
    const bgzfLike = new Uint8Array([...gz, ...gzipSync(new Uint8Array())]);
    expect(check(bgzfLike)).toBeNull();
  });

  it('ignores files that are not NIfTI-1', () => {
    expect(check(new Uint8Array(500))).toBeNull();
  });
});
