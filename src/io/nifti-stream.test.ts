/**
 * The streaming NIfTI decoder against itk-wasm's full read of the same real files: same voxels,
 * and itk-wasm's header-only read gives the same geometry and voxel type as its full read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { niftiReadImageNode } from '@itk-wasm/image-io';
import { gzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDemoPhantom } from '../core/phantom';
import type { Volume, VoxelArray } from '../core/types';
import { LoadError, voxelTypeName } from '../core/validate';
import { encodeNifti } from '../../tests/support/raw-writers';
import { obliqueLpsVolume } from '../../tests/support/test-files';
import { describeItkImage } from './itk-image';
import { readImageNode } from './node';
import { decodeNiftiStream, niftiVoxelLayout } from './nifti-stream';

const dir = mkdtempSync(path.join(tmpdir(), 'nifti-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The bytes in chunks of an odd size, so that chunk edges fall inside the header and voxels. */
async function* chunked(bytes: Uint8Array, size = 7919): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.slice(offset, offset + size);
}

function decode(name: string, bytes: Uint8Array, maxVoxels = 1e9) {
  return decodeNiftiStream(name, chunked(bytes), { gzipped: bytes[0] === 0x1f && bytes[1] === 0x8b, maxVoxels });
}

/** A NIfTI-1 header extension (16 bytes) between the header and the voxels. */
function withExtension(file: Uint8Array): Uint8Array {
  const out = new Uint8Array(file.length + 16);
  out.set(file.subarray(0, 348));
  out[348] = 1; // an extension follows
  const view = new DataView(out.buffer);
  view.setInt32(352, 16, true); // esize
  view.setInt32(356, 6, true); // ecode: comment
  out.set(new TextEncoder().encode('testing!'), 360);
  view.setFloat32(108, 368, true); // vox_offset
  out.set(file.subarray(352), 368);
  return out;
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let n = 0; n < a.length; n++) if (a[n] !== b[n] && !(Number.isNaN(a[n]) && Number.isNaN(b[n]))) return false;
  return true;
}

const oblique = obliqueLpsVolume({ size: [37, 29, 23] });
const phantom = makeDemoPhantom({ size: [40, 36, 20] }).volume;
const cases: { name: string; bytes: Uint8Array }[] = [
  { name: 'oblique-int16.nii', bytes: encodeNifti(oblique.geometry, oblique.data) },
  { name: 'oblique-int16.nii.gz', bytes: encodeNifti(oblique.geometry, oblique.data, { gzip: true }) },
  { name: 'phantom-float32.nii', bytes: encodeNifti(phantom.geometry, phantom.data) },
  { name: 'uint8.nii.gz', bytes: encodeNifti(oblique.geometry, Uint8Array.from(oblique.data, (v) => v & 255), { gzip: true }) },
  { name: 'uint16.nii', bytes: encodeNifti(oblique.geometry, Uint16Array.from(oblique.data, (v) => v + 1024)) },
  { name: 'float64-extension.nii', bytes: withExtension(encodeNifti(oblique.geometry, Float64Array.from(oblique.data, (v) => v / 7))) },
];

describe('streaming NIfTI decoder', () => {
  for (const { name, bytes } of cases) {
    it(`reads ${name} as itk-wasm does`, async () => {
      const file = path.join(dir, name);
      writeFileSync(file, bytes);
      const expected: Volume = await readImageNode(file);
      const { header, layout, voxels } = await decode(name, bytes);
      expect(layout).not.toBeNull();
      expect(voxels!.constructor).toBe(expected.data.constructor);
      expect(sameValues(voxels!, expected.data)).toBe(true);

      // itk-wasm's header-only read (what the browser reader validates) matches its full read.
      const headerFile = path.join(dir, `header-${name.replace(/\.gz$/, '')}`);
      writeFileSync(headerFile, header);
      const { image } = await niftiReadImageNode(headerFile, { informationOnly: true });
      const info = describeItkImage(image);
      expect(info.componentType).toBe(voxelTypeName(expected.data as VoxelArray));
      expect(info.componentType).toBe(layout!.type);
      expect(info.size).toEqual(expected.geometry.size);
      expect(info.spacing).toEqual(expected.geometry.spacing);
      expect(info.origin).toEqual(expected.geometry.origin);
      expect(Array.from(info.direction)).toEqual(expected.geometry.direction);
    });
  }

  it('leaves scaled, big-endian and NIfTI-2 files to itk-wasm', () => {
    const file = encodeNifti(oblique.geometry, oblique.data);
    expect(niftiVoxelLayout(file)).toEqual({ voxelOffset: 352, voxelCount: 37 * 29 * 23, type: 'int16' });
    const scaled = file.slice(0, 352);
    new DataView(scaled.buffer).setFloat32(112, 0.5, true);
    expect(niftiVoxelLayout(scaled)).toBeNull();
    const offset = file.slice(0, 352);
    new DataView(offset.buffer).setFloat32(112, 1, true);
    new DataView(offset.buffer).setFloat32(116, -1024, true);
    expect(niftiVoxelLayout(offset)).toBeNull();
    const bigEndian = file.slice(0, 352);
    new DataView(bigEndian.buffer).setInt32(0, 348, false);
    expect(niftiVoxelLayout(bigEndian)).toBeNull();
    const unscaled = file.slice(0, 352);
    new DataView(unscaled.buffer).setFloat32(112, 1, true);
    expect(niftiVoxelLayout(unscaled)).not.toBeNull();
  });

  it('does not allocate voxels over the budget', async () => {
    const { layout, voxels } = await decode('big.nii', encodeNifti(oblique.geometry, oblique.data), 1000);
    expect(layout?.voxelCount).toBe(37 * 29 * 23);
    expect(voxels).toBeUndefined();
  });

  it('refuses a truncated file and corrupt compressed data, naming the file', async () => {
    const file = encodeNifti(oblique.geometry, oblique.data);
    await expect(decode('cut.nii', file.subarray(0, file.length - 10))).rejects.toThrow(
      new LoadError('cut.nii', 'the file is truncated (it ends before its last voxel)'),
    );
    const compressed = gzipSync(file);
    const corrupt = compressed.slice();
    corrupt.fill(0xff, 100, 400);
    await expect(decode('bad.nii.gz', corrupt)).rejects.toThrow(/bad\.nii\.gz: the compressed file is corrupt/);
  });

  it('stops reading once the voxels are complete', async () => {
    const file = encodeNifti(oblique.geometry, oblique.data);
    const padded = new Uint8Array(file.length + 1e6);
    padded.set(file);
    let read = 0;
    const { voxels } = await decodeNiftiStream('padded.nii', chunked(padded, 65536), {
      gzipped: false,
      maxVoxels: 1e9,
      onBytesRead: (bytes) => (read = bytes),
    });
    expect(sameValues(voxels!, oblique.data)).toBe(true);
    expect(read).toBeLessThan(file.length + 65536);
  });
});
