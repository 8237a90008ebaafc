/**
 * Real files through itk-wasm (Node pipelines) and our conversion: geometry of oblique files
 * written by independent encoders, write/read round trips, DICOM series, and bad inputs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { orientationCode } from '../src/core/geometry';
import type { Volume } from '../src/core/types';
import { LoadError } from '../src/core/validate';
import { listDicomSeriesNode, readImageNode, writeImageNode } from '../src/io/node';
import {
  obliqueLpsVolume,
  writeBadFiles,
  writeMixedDicomFolder,
  writeTestDicomSeries,
  writeTestNifti,
  writeTestNrrd,
} from './support/test-files';

const dir = mkdtempSync(path.join(tmpdir(), 'io-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const oblique = obliqueLpsVolume();

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let n = 0; n < a.length; n++) if (a[n] !== b[n]) return false;
  return true;
}

/** Same grid (to `digits` decimals: NIfTI stores float32) and same voxels. */
function expectSameVolume(actual: Volume, expected: Volume, digits: number) {
  const a = actual.geometry;
  const e = expected.geometry;
  expect(a.size).toEqual(e.size);
  a.spacing.forEach((v, n) => expect(v).toBeCloseTo(e.spacing[n], digits));
  a.origin.forEach((v, n) => expect(v).toBeCloseTo(e.origin[n], digits));
  a.direction.forEach((v, n) => expect(v, `direction[${n}]`).toBeCloseTo(e.direction[n], digits));
  expect(actual.data.constructor).toBe(expected.data.constructor);
  expect(sameValues(actual.data, expected.data)).toBe(true);
}

describe('reading files written by independent encoders', () => {
  it('keeps the oblique geometry of a NIfTI (sform, RAS on disk)', async () => {
    const volume = await readImageNode(writeTestNifti(path.join(dir, 'oblique.nii'), oblique));
    expectSameVolume(volume, oblique, 4);
    expect(orientationCode(volume.geometry)).toBe('LPS');
  });

  it('reads a gzip-compressed NIfTI', async () => {
    const volume = await readImageNode(writeTestNifti(path.join(dir, 'oblique.nii.gz'), oblique));
    expectSameVolume(volume, oblique, 4);
  });

  it('keeps the oblique geometry of an NRRD (LPS space directions)', async () => {
    const volume = await readImageNode(writeTestNrrd(path.join(dir, 'oblique.nrrd'), oblique));
    expectSameVolume(volume, oblique, 9);
  });

  it('reads a RAS-style (flipped axes) NIfTI into the same world', async () => {
    const flipped = obliqueLpsVolume({ direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] });
    const volume = await readImageNode(writeTestNifti(path.join(dir, 'ras.nii'), flipped));
    expectSameVolume(volume, flipped, 4);
    expect(orientationCode(volume.geometry)).toBe('RAS');
  });

  it('reads a DICOM series folder with its oblique geometry', async () => {
    // Fewer slices than the other cases: Node reloads the tag-reading pipeline for every file.
    const small = obliqueLpsVolume({ size: [48, 48, 16], spacing: [4, 4, 15] });
    const seriesDir = path.join(dir, 'dicom-oblique');
    const files = writeTestDicomSeries(seriesDir, small, { seriesDescription: 'Oblique phantom' });
    expect(files).toHaveLength(16);
    const volume = await readImageNode(seriesDir);
    expectSameVolume(volume, small, 4);
  });
});

describe('writing', () => {
  it.each(['out.nii.gz', 'out.nii', 'out.nrrd', 'out.mha'])('round-trips %s', async (name) => {
    const file = path.join(dir, name);
    await writeImageNode(oblique, file);
    expectSameVolume(await readImageNode(file), oblique, name.includes('nii') ? 4 : 9);
  });

  it('refuses an unknown output format', async () => {
    await expect(writeImageNode(oblique, path.join(dir, 'out.png'))).rejects.toThrow(/cannot write this format/);
  });
});

describe('DICOM folders', () => {
  const mixed = path.join(dir, 'mixed');
  const { series } = writeMixedDicomFolder(mixed);

  it('lists each series and skips non-DICOM files, counting them', async () => {
    const { readdirSync } = await import('node:fs');
    const { series: listed, skipped } = await listDicomSeriesNode(readdirSync(mixed).map((f) => path.join(mixed, f)));
    expect([...skipped]).toEqual([['not DICOM', 2]]);
    expect(listed.map((s) => [s.seriesInstanceUid, s.description, s.modality, s.fileCount, s.columns, s.rows])).toEqual([
      [series[0].uid, 'Axial CT', 'CT', 8, 16, 12],
      [series[1].uid, 'Scout', 'MR', 5, 10, 10],
    ]);
    expect(listed[1].files.every((f) => path.basename(f).startsWith('S2_'))).toBe(true);
  });

  it('asks to choose when a folder holds several series, and reads the chosen one', async () => {
    await expect(readImageNode(mixed)).rejects.toThrow(/several DICOM series found/);
    const volume = await readImageNode(mixed, { seriesInstanceUid: series[1].uid });
    expect(volume.geometry.size).toEqual([10, 10, 5]);
    expect(volume.geometry.spacing).toEqual([1, 1, 2]);
  });
});

describe('bad input', () => {
  const bad = writeBadFiles(path.join(dir, 'bad'));

  it.each(bad.map((b) => [b.case, b] as const))('%s gives a clear message naming the file', async (_, file) => {
    let thrown: unknown;
    try {
      await readImageNode(file.path);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LoadError);
    const error = thrown as LoadError;
    expect(error.fileName).toBe(path.basename(file.path));
    expect(error.message.startsWith(`${path.basename(file.path)}: `)).toBe(true);
    expect(error.reason).toMatch(file.message);
  });

  it('says when a folder has no DICOM images', async () => {
    await expect(readImageNode(path.join(dir, 'bad'))).rejects.toThrow(/^bad: no DICOM image series found/);
  });

  it('says when a file does not exist', async () => {
    await expect(readImageNode(path.join(dir, 'missing.nii'))).rejects.toThrow(/missing\.nii: file not found/);
  });

  it('refuses an image over the voxel budget', async () => {
    const file = writeTestNifti(path.join(dir, 'big.nii'), oblique);
    await expect(readImageNode(file, { maxVoxels: 1000 })).rejects.toThrow(/big\.nii: the image is too large/);
  });
});
