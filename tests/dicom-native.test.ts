/**
 * The native DICOM series reader (uncompressed pixels read straight from the files) against
 * itk-wasm's series reader on the same files: the same grid and the same values.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom';
import { afterAll, describe, expect, it } from 'vitest';
import { isShared } from '../src/core/shared-voxels';
import { readNativeSeries } from '../src/io/dicom-native';
import { checkDicomSeriesFiles } from '../src/io/dicom-series';
import { itkImageToVolume } from '../src/io/itk-image';
import { obliqueLpsVolume, writeTestDicomSeries } from './support/test-files';
import type { DicomSeriesOptions } from './support/dicom-writer';

const workDir = mkdtempSync(path.join(tmpdir(), 'dicom-native-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
const source = obliqueLpsVolume({ size: [32, 28, 12], spacing: [2, 2.5, 3] });

function read(paths: string[]) {
  const files = paths.map((p) => ({ name: path.basename(p), bytes: new Uint8Array(readFileSync(p)) }));
  return readNativeSeries(files, checkDicomSeriesFiles(files));
}

describe('readNativeSeries', () => {
  it.each<[string, DicomSeriesOptions]>([
    ['a plain oblique series', {}],
    ['a series rescaled to Hounsfield units', { rescale: { slope: 1, intercept: -1024 } }],
    ['a series rescaled by a fraction', { rescale: { slope: 0.5, intercept: 3 } }],
  ])('reads %s as itk-wasm decodes it', async (name, options) => {
    const paths = writeTestDicomSeries(path.join(workDir, name), source, options);
    // Files in any order: the reader sorts the slices by position.
    const native = (await read([...paths].reverse()))!;
    expect(native).not.toBeNull();
    const { outputImage } = await readImageDicomFileSeriesNode({ inputImages: paths });
    const itk = itkImageToVolume(outputImage, name);
    expect(native.geometry.size).toEqual(itk.geometry.size);
    for (const key of ['spacing', 'origin', 'direction'] as const) {
      native.geometry[key].forEach((v, n) => expect(v).toBeCloseTo(itk.geometry[key][n], 4));
    }
    expect(Array.from(native.data)).toEqual(Array.from(itk.data));
    const { slope, intercept } = options.rescale ?? { slope: 1, intercept: 0 };
    expect(native.data[100]).toBe(source.data[100] * slope + intercept);
    // Rescaled integers that fit stay 16-bit; a fractional slope needs float.
    expect(native.data).toBeInstanceOf(Number.isInteger(slope) ? Int16Array : Float32Array);
    // Stacked straight into shared memory: the page and the inference worker share it, no copy.
    expect(isShared(native.data)).toBe(true);
  });

  it('leaves single files and mixed grids to itk-wasm', async () => {
    const paths = writeTestDicomSeries(path.join(workDir, 'single'), source);
    expect(await read(paths.slice(0, 1))).toBeNull();
    const other = writeTestDicomSeries(path.join(workDir, 'other'), obliqueLpsVolume({ size: [30, 28, 12], spacing: [2, 2.5, 3] }));
    expect(await read([...paths.slice(0, 3), other[5]])).toBeNull();
  });
});
