/**
 * The NIfTI decoder against itk-wasm's full read of the same real files (written by our encoder
 * with an sform, and by ITK itself with a qform and an sform): same voxels, type and geometry.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDemoPhantom } from '../core/phantom';
import { isShared } from '../core/shared-voxels';
import type { Volume } from '../core/types';
import { LoadError } from '../core/validate';
import { encodeNifti } from '../../tests/support/raw-writers';
import { obliqueLpsVolume } from '../../tests/support/test-files';
import { readImageNode, writeImageNode } from './node';
import { niftiVoxelLayout, readNiftiHeader, readNiftiVoxels, type NiftiSource } from './nifti-decode';

const dir = mkdtempSync(path.join(tmpdir(), 'nifti-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file's bytes as a decoder source, recording each read. */
function source(name: string, bytes: Uint8Array, reads: [number, number][] = []): NiftiSource {
  const read = async (start: number, end: number) => {
    reads.push([start, end]);
    return bytes.slice(start, end).buffer;
  };
  return { name, size: bytes.length, gzipped: bytes[0] === 0x1f && bytes[1] === 0x8b, read };
}

async function decode(name: string, bytes: Uint8Array) {
  const file = source(name, bytes);
  const { header, layout } = await readNiftiHeader(file);
  return { header, layout, voxels: layout ? await readNiftiVoxels(file, layout) : undefined };
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
  {
    name: 'uint8.nii.gz',
    bytes: encodeNifti(
      oblique.geometry,
      Uint8Array.from(oblique.data, (v) => v & 255),
      { gzip: true },
    ),
  },
  {
    name: 'uint16.nii',
    bytes: encodeNifti(
      oblique.geometry,
      Uint16Array.from(oblique.data, (v) => v + 1024),
    ),
  },
  {
    name: 'float64-extension.nii',
    bytes: withExtension(
      encodeNifti(
        oblique.geometry,
        Float64Array.from(oblique.data, (v) => v / 7),
      ),
    ),
  },
];

/** Our decoder and itk-wasm's full read give the same voxels, type and geometry. */
async function expectReadAsItk(name: string, bytes: Uint8Array): Promise<void> {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  const expected: Volume = await readImageNode(file);
  const { layout, voxels } = await decode(name, bytes);
  expect(layout).not.toBeNull();
  expect(voxels!.constructor).toBe(expected.data.constructor);
  expect(sameValues(voxels!, expected.data)).toBe(true);
  // In shared memory, plain and compressed files alike: the page receives them without a copy.
  expect(isShared(voxels!)).toBe(true);
  const { size, spacing, origin, direction } = layout!.geometry;
  expect(size).toEqual(expected.geometry.size);
  spacing.forEach((v, n) => expect(v).toBeCloseTo(expected.geometry.spacing[n], 6));
  origin.forEach((v, n) => expect(v).toBeCloseTo(expected.geometry.origin[n], 4));
  direction.forEach((v, n) => expect(v, `direction[${n}]`).toBeCloseTo(expected.geometry.direction[n], 6));
}

/** The same header with its sform code (or qform code) set to zero. */
function withoutForm(file: Uint8Array, form: 'sform' | 'qform'): Uint8Array {
  const out = file.slice();
  new DataView(out.buffer).setInt16(form === 'sform' ? 254 : 252, 0, true);
  return out;
}

describe('NIfTI decoder', () => {
  it('reads files ITK wrote (qform and sform) as itk-wasm does', async () => {
    const written = path.join(dir, 'itk-written.nii');
    await writeImageNode(oblique, written);
    const bytes = new Uint8Array(readFileSync(written));
    const view = new DataView(bytes.buffer);
    expect([view.getInt16(252, true), view.getInt16(254, true)].every((code) => code > 0)).toBe(true);
    await expectReadAsItk('itk-written.nii', bytes);
    await expectReadAsItk('itk-written-qform-only.nii', withoutForm(bytes, 'sform'));
  });

  for (const { name, bytes } of cases) it(`reads ${name} as itk-wasm does`, () => expectReadAsItk(name, bytes));

  it('leaves to itk-wasm what it reads by rules of its own', () => {
    const file = encodeNifti(oblique.geometry, oblique.data).slice(0, 352);
    const edited = (edit: (view: DataView) => void) => {
      const copy = file.slice();
      edit(new DataView(copy.buffer));
      return niftiVoxelLayout(copy);
    };
    expect(edited(() => {})).not.toBeNull();
    expect(edited((v) => v.setInt16(254, 0, true))).toBeNull(); // neither qform nor sform
    expect(edited((v) => v.setUint8(123, 1))).toBeNull(); // metres
    expect(edited((v) => v.setFloat32(280, 2 * v.getFloat32(280, true), true))).toBeNull(); // sform column != pixdim
    expect(edited((v) => v.setInt16(40, 4, true))).toBeNull(); // 4D
    expect(edited((v) => v.setInt16(252, 1, true))).toBeNull(); // a qform (identity) that differs from the sform
  });

  it('leaves scaled, big-endian and NIfTI-2 files to itk-wasm', () => {
    const file = encodeNifti(oblique.geometry, oblique.data);
    expect(niftiVoxelLayout(file)).toMatchObject({ voxelOffset: 352, voxelCount: 37 * 29 * 23, type: 'int16' });
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

  it('refuses a truncated file, plain or compressed, naming the file', async () => {
    const file = encodeNifti(oblique.geometry, oblique.data);
    await expect(decode('cut.nii', file.subarray(0, file.length - 10))).rejects.toThrow(
      new LoadError('cut.nii', 'the file is truncated (it ends before its last voxel)'),
    );
    const compressed = gzipSync(file);
    await expect(decode('cut.nii.gz', compressed.subarray(0, compressed.length >> 1))).rejects.toThrow(
      /cut\.nii\.gz: the compressed file is corrupt/,
    );
  });

  it('reads the voxels of a plain file as one buffer, and no more than they need', async () => {
    const file = encodeNifti(oblique.geometry, oblique.data);
    const padded = new Uint8Array(file.length + 1000);
    padded.set(file);
    const reads: [number, number][] = [];
    const { voxels } = await decode('padded.nii', padded);
    expect(sameValues(voxels!, oblique.data)).toBe(true);
    expect(voxels!.byteOffset).toBe(0);
    const padding = source('padded.nii', padded, reads);
    await readNiftiVoxels(padding, (await readNiftiHeader(padding)).layout!);
    expect(reads.at(-1)).toEqual([352, file.length]);
  });

  it('reports the inflation of a compressed file as it goes', async () => {
    // Noise hardly compresses: about 3 MB of compressed data, three inflation steps.
    let seed = 1;
    const noise = Int16Array.from({ length: 128 * 128 * 96 }, () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >> 16;
    });
    const file = source('noise.nii.gz', encodeNifti({ ...oblique.geometry, size: [128, 128, 96] }, noise, { gzip: true }));
    const fractions: number[] = [];
    const voxels = await readNiftiVoxels(file, (await readNiftiHeader(file)).layout!, (f) => fractions.push(f));
    expect(sameValues(voxels, noise)).toBe(true);
    expect(fractions.length).toBeGreaterThan(1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
  });
});
