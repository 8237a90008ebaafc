/**
 * DICOM read through the app's Node reader, and the grid pydicom computes for the same files
 * (tests/support/pydicom_geometry.py, independent of ITK and of our reader) to compare it with.
 * Shared by the in-repo corpus test and the test on the dcm2niix QA sets.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { ImageGeometry } from '../../src/core/types';
import { LoadError } from '../../src/core/validate';
import { readDicomSeriesNode, readImageNode, type NodeReadOptions } from '../../src/io/node';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(import.meta.dirname, 'pydicom_geometry.py');
/** Debian's python3-pydicom, which holds pydicom's sample files too. */
export const PYDICOM_SAMPLES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
export const hasPydicom = existsSync(PYDICOM_SAMPLES);

/** What pydicom makes of a series: its grid, or what keeps it from being one volume (see the script). */
export type PydicomResult =
  | ImageGeometry
  | { mosaic: string }
  | { colour: number }
  | { volumes: number; positions: number }
  | { repeated: number; slices: number }
  | { error: string };

/** pydicom's description of each path: a file, or a folder holding one series. */
export function pydicomGeometry(paths: string[]): Record<string, PydicomResult> {
  return JSON.parse(execFileSync(PYTHON, [SCRIPT, ...paths], { encoding: 'utf8' }));
}

export interface PydicomSeries {
  folder: string;
  files: string[];
  description: string;
  result: PydicomResult;
}

/** Every series (SeriesInstanceUID of a folder's image files) under `root`, as pydicom groups and describes it. */
export function pydicomSeries(root: string): PydicomSeries[] {
  return JSON.parse(execFileSync(PYTHON, [SCRIPT, '--series', root], { encoding: 'utf8', maxBuffer: 256 << 20 }));
}

export type Outcome = { loaded: ImageGeometry; warnings: string[] } | { refused: LoadError };

/** Reads a file or folder (readImageNode), or the given files of one series; a LoadError is an outcome, anything else throws. */
export async function outcome(source: string | string[], options: NodeReadOptions = {}): Promise<Outcome> {
  const warnings: string[] = [];
  const read = { ...options, onWarning: (text: string) => warnings.push(text) };
  try {
    const volume = typeof source === 'string' ? await readImageNode(source, read) : await readDicomSeriesNode(source, read);
    return { loaded: volume.geometry, warnings };
  } catch (error) {
    if (error instanceof LoadError) return { refused: error };
    throw error;
  }
}

/**
 * The same grid as pydicom's, to 1e-3 mm: a reader may stack the slices in the opposite order
 * (third axis reversed, origin at the other end), which is the same set of voxels.
 */
export function expectSameGrid(actual: ImageGeometry, expected: ImageGeometry, label: string) {
  let { origin, direction } = actual;
  const flipped =
    actual.size[2] > 1 &&
    direction[6] * expected.direction[6] + direction[7] * expected.direction[7] + direction[8] * expected.direction[8] < 0;
  if (flipped) {
    const last = (actual.size[2] - 1) * actual.spacing[2];
    origin = [0, 1, 2].map((r) => origin[r] + direction[6 + r] * last) as ImageGeometry['origin'];
    direction = [...direction.slice(0, 6), -direction[6], -direction[7], -direction[8]] as ImageGeometry['direction'];
  }
  expect(actual.size, `${label} size`).toEqual(expected.size);
  // A single slice has no slice spacing or normal to compare: readers make one up.
  const axes = actual.size[2] > 1 ? 9 : 6;
  for (let n = 0; n < axes / 3; n++) expect(actual.spacing[n], `${label} spacing[${n}]`).toBeCloseTo(expected.spacing[n], 3);
  origin.forEach((v, n) => expect(v, `${label} origin[${n}]`).toBeCloseTo(expected.origin[n], 3));
  for (let n = 0; n < axes; n++) expect(direction[n], `${label} direction[${n}]`).toBeCloseTo(expected.direction[n], 4);
}
