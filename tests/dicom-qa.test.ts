/**
 * Real scanner series: dcm2niix's DICOM conversion QA sets (github.com/neurolabusc/dcm_qa_*:
 * Siemens, Philips, Canon/Toshiba; classic and enhanced, oblique, sagittal, decubitus, mosaics,
 * 4D, several transfer syntaxes) through the app's Node reader. pydicom groups each folder's
 * image files by series and describes each independently (tests/support/pydicom_geometry.py);
 * every series must load with pydicom's grid, or be refused for the reason pydicom sees (a Siemens
 * mosaic, colour, a 4D series). The sets are not in the repository: SAM_DICOM_QA names a folder
 * holding them (README, "Tests and benchmarks").
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageGeometry } from '../src/core/types';
import { expectSameGrid, hasPydicom, outcome, pydicomSeries, type PydicomResult } from './support/dicom-geometry';

const root = process.env.SAM_DICOM_QA;
const skipReason = !root
  ? 'SAM_DICOM_QA is not set'
  : !existsSync(root)
    ? `SAM_DICOM_QA=${root} does not exist`
    : !hasPydicom
      ? 'Debian python3-pydicom is missing'
      : null;
if (skipReason) console.warn(`Skipping the dcm2niix DICOM QA sets: ${skipReason} (README, "Tests and benchmarks", says how to get them).`);

/** What our reader must say when pydicom finds no single volume; null where it must load. */
function expectedRefusal(result: PydicomResult): RegExp | string | null {
  if ('mosaic' in result) return /Siemens mosaic/;
  if ('colour' in result) return `it is a colour (RGB) image with ${result.colour} values per voxel`;
  if ('volumes' in result) return `it holds ${result.volumes} volumes at the same ${result.positions} slice positions`;
  if ('repeated' in result) return `${result.repeated} of its ${result.slices} slices lie at the position of another slice`;
  return null;
}

describe.skipIf(skipReason !== null)('dcm2niix DICOM QA sets', () => {
  const series = skipReason ? [] : pydicomSeries(root!);
  const table: Record<string, string | number>[] = [];
  afterAll(() => console.table(table));

  it('holds series', () => {
    expect(series.length).toBeGreaterThan(0);
  });

  it.each(series.map((s) => [`${path.relative(root!, s.folder)} ${s.description}`, s] as const))(
    '%s: loads with pydicom geometry or is refused for its reason',
    async (label, s) => {
      expect(s.result, `pydicom on ${label}`).not.toHaveProperty('error');
      // A folder holding one series is opened as the user would; otherwise the series' files.
      const alone = series.filter((other) => other.folder === s.folder).length === 1;
      const result = await outcome(alone ? s.folder : s.files);
      const refusal = expectedRefusal(s.result);
      const pydicom = 'size' in s.result ? `${s.result.size.join(' x ')}` : JSON.stringify(s.result);
      const ours =
        'loaded' in result
          ? `${result.loaded.size.join(' x ')}${result.warnings.length ? ` (${result.warnings.join(' ')})` : ''}`
          : result.refused.reason;
      const row = { series: label, files: s.files.length, ours: ours.slice(0, 90), pydicom, match: 'no' };
      table.push(row);
      if (refusal) expect('refused' in result ? result.refused.reason : `loaded ${ours}`).toMatch(refusal);
      else {
        expect(result, label).toHaveProperty('loaded');
        if ('loaded' in result) expectSameGrid(result.loaded, s.result as ImageGeometry, label);
      }
      row.match = 'yes';
    },
    120_000,
  );
});
