/**
 * Importing a DICOM SEG onto the open scan. dcmqi (through itk-wasm) decodes the SEG into a
 * labelmap on the grid of its own frames, which often cover only the slices that hold a
 * segment: the labels are placed on the scan's grid voxel by voxel through world positions.
 */
import type { DicomSegMetaInfo } from '../core/export/dicom-seg-meta';
import { defaultSegmentColor, type Segment } from '../core/segmentation/segments';
import type { ImageGeometry, Volume } from '../core/types';
import type { DicomHeader } from './dicom-header';

/** Column a of a column-major 3x3 matrix. */
const column = (m: readonly number[], a: number) => [m[3 * a], m[3 * a + 1], m[3 * a + 2]];

/**
 * For each axis of `source`, the step it makes in `grid` index space when it is a whole voxel
 * along one of grid's axes (a permutation or flip), else null: the grids are not aligned.
 */
function alignedSteps(source: ImageGeometry, grid: ImageGeometry): number[][] | null {
  const steps = [];
  for (let a = 0; a < 3; a++) {
    const world = column(source.direction, a).map((v) => v * source.spacing[a]);
    const step = [0, 1, 2].map((b) => column(grid.direction, b).reduce((sum, v, w) => sum + v * world[w], 0) / grid.spacing[b]);
    const rounded = step.map(Math.round);
    if (step.some((v, b) => Math.abs(v - rounded[b]) > 1e-3) || rounded.reduce((n, v) => n + Math.abs(v), 0) !== 1) return null;
    steps.push(rounded);
  }
  return steps;
}

/** The grid index (fractional) of a world position; grid directions are orthonormal. */
function gridIndex(grid: ImageGeometry, world: number[]): number[] {
  return [0, 1, 2].map((b) => column(grid.direction, b).reduce((sum, v, w) => sum + v * (world[w] - grid.origin[w]), 0) / grid.spacing[b]);
}

/**
 * The labels of `source` placed on `grid`, or the reason they cannot be: grids not aligned
 * voxel to voxel, or labels outside the scan.
 */
export function placeLabels(source: Volume, grid: ImageGeometry): { labels: Uint8Array } | { problem: string } {
  const steps = alignedSteps(source.geometry, grid);
  const start = gridIndex(grid, [...source.geometry.origin]);
  const base = start.map(Math.round);
  if (!steps || start.some((v, b) => Math.abs(v - base[b]) > 1e-2)) return { problem: "its voxels do not lie on this scan's voxels" };
  const [nx, ny, nz] = grid.size;
  const [sx, sy, sz] = source.geometry.size;
  const labels = new Uint8Array(nx * ny * nz);
  let outside = 0;
  for (let k = 0; k < sz; k++) {
    for (let j = 0; j < sy; j++) {
      for (let i = 0; i < sx; i++) {
        const value = Number(source.data[i + sx * (j + sy * k)]);
        if (value === 0) continue;
        if (!Number.isInteger(value) || value < 0 || value > 255) return { problem: `it holds the label ${value} (labels are 1-255)` };
        const [x, y, z] = [0, 1, 2].map((b) => base[b] + i * steps[0][b] + j * steps[1][b] + k * steps[2][b]);
        if (x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz) outside++;
        else labels[x + nx * (y + ny * z)] = value;
      }
    }
  }
  if (outside > 0) return { problem: `${outside} of its voxels lie outside this scan` };
  return { labels };
}

/** Our segments for the labels present, named and coloured as the SEG says. */
export function segmentsFromSegMeta(metaInfo: unknown, labels: Uint8Array): Segment[] {
  const attributes = ((metaInfo as Partial<DicomSegMetaInfo>)?.segmentAttributes ?? []).flat();
  const present = new Uint8Array(256);
  for (let n = 0; n < labels.length; n++) present[labels[n]] = 1;
  const segments: Segment[] = [];
  for (let label = 1; label < 256; label++) {
    if (!present[label]) continue;
    const attribute = attributes.find((s) => s.labelID === label);
    const color = attribute?.recommendedDisplayRGBValue;
    segments.push({
      label,
      name: attribute?.SegmentLabel || `Segment ${label}`,
      color: Array.isArray(color) && color.length === 3 ? [color[0], color[1], color[2]] : defaultSegmentColor(label),
      visible: true,
      points: [],
    });
  }
  return segments;
}

/**
 * Why a SEG does not belong to the open scan, or null when it does: it references the scan's
 * series, or (scans not from DICOM, or another copy of the series) its voxels lie on the scan's.
 */
export function segMismatch(
  seg: DicomHeader,
  scanSeriesUid: string | null,
  placed: { problem: string } | { labels: Uint8Array },
): string | null {
  const references = seg.referencedSeriesUids;
  const ours = scanSeriesUid !== null && references.includes(scanSeriesUid);
  if (!('problem' in placed)) return null;
  const series = references.length ? `series ${references.join(', ')}` : 'a series it does not name';
  if (ours) return `it is a segmentation of this series, but ${placed.problem}`;
  return `it is a DICOM SEG of ${series}${scanSeriesUid ? `, not of the open scan (series ${scanSeriesUid})` : ''}, and ${placed.problem}; open that series first`;
}
