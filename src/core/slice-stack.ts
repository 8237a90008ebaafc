/**
 * Slice stacks that are not a regular grid: a DICOM series with missing slices (uneven spacing)
 * or acquired with a tilted CT gantry (each slice shifted in its plane, a sheared stack).
 * DICOM readers (ITK included) stack such slices as if they were evenly spaced and straight,
 * which distorts the anatomy. Here the stack is resampled, as dcm2niix does, onto a regular
 * orthogonal grid: in-plane shifts are undone by bilinear interpolation and the slices are
 * interpolated linearly along their normal at the median spacing.
 */
import { cross, dot } from './geometry';
import type { Vec3, Volume, VoxelArray } from './types';

export interface StackCorrection {
  /** The resampled volume, or the input when nothing needed correcting or it could not be. */
  volume: Volume;
  /** User-facing notes on what was wrong and what was done. */
  warnings: string[];
}

/** The middle value (the upper one of an even count). */
export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mm = (value: number) => `${Number(value.toFixed(2))} mm`;

/** Smallest in-plane shift (voxels) and relative spacing change worth correcting. */
const SHIFT_TOLERANCE = 0.05;
const SPACING_TOLERANCE = 0.01;

/**
 * Checks the slice positions (ImagePositionPatient, one per slice of `volume`, in any order)
 * against the volume's grid and resamples it when they are uneven or sheared. Slices are
 * assumed stacked by the reader in ascending order along the volume's third axis.
 */
export function correctSliceStack(volume: Volume, positions: Vec3[], options: { maxVoxels: number }): StackCorrection {
  const { size, spacing, direction: d } = volume.geometry;
  if (positions.length !== size[2] || size[2] < 2) return { volume, warnings: [] };
  const axes = [0, 1, 2].map((c) => [d[3 * c], d[3 * c + 1], d[3 * c + 2]]);
  // The reader stacks the slices along its third axis, which need not be the plane normal (it
  // follows a tilt): the normal is oriented the same way so that slices keep their order.
  const plane = cross(axes[0], axes[1]);
  const normal = dot(plane, axes[2]) < 0 ? plane.map((v) => -v) : plane;
  const sorted = [...positions].sort((a, b) => dot(a, axes[2]) - dot(b, axes[2]));
  const first = sorted[0];
  const relative = sorted.map((p) => [p[0] - first[0], p[1] - first[1], p[2] - first[2]]);
  const along = relative.map((r) => dot(r, normal));
  const shiftI = relative.map((r) => dot(r, axes[0]) / spacing[0]);
  const shiftJ = relative.map((r) => dot(r, axes[1]) / spacing[1]);
  const gaps = along.slice(1).map((a, k) => a - along[k]);
  const step = median(gaps);
  if (!(Math.min(...gaps) > 1e-3)) {
    return {
      volume,
      warnings: ['Several slices of this series lie at the same position (mixed acquisitions?); they are stacked as read.'],
    };
  }
  const last = relative.length - 1;
  const problems: string[] = [];
  if ([...shiftI, ...shiftJ].some((s) => Math.abs(s) > SHIFT_TOLERANCE)) {
    const inPlane = Math.hypot(shiftI[last] * spacing[0], shiftJ[last] * spacing[1]);
    const tilt = (Math.atan2(inPlane, along[last]) * 180) / Math.PI;
    problems.push(`the slices are sheared (CT gantry tilt of ${Number(tilt.toFixed(1))}°)`);
  }
  const count = Math.round(along[last] / step) + 1;
  if (gaps.some((g) => Math.abs(g - step) > SPACING_TOLERANCE * step)) {
    const missing = count - size[2];
    const what = missing > 0 ? `${missing} slice${missing === 1 ? ' is' : 's are'} missing` : 'the slice spacing is uneven';
    problems.push(`${what} (gaps from ${mm(Math.min(...gaps))} to ${mm(Math.max(...gaps))})`);
  }
  // A reader's spacing other than the true distance between slices distorts the scan too.
  if (problems.length === 0 && Math.abs(spacing[2] - step) <= SPACING_TOLERANCE * step) return { volume, warnings: [] };
  const what = problems.length ? capitalized(problems.join(' and ')) : 'The slice spacing read was not the distance between slices';
  if (size[0] * size[1] * count > options.maxVoxels || count > 4 * size[2]) {
    return { volume, warnings: [`${what}; the scan is shown as stacked, so distances and shapes across slices are wrong.`] };
  }
  const data = resample(volume, along, shiftI, shiftJ, step, count);
  const direction = [...axes[0], ...axes[1], ...normal] as Volume['geometry']['direction'];
  const geometry = { size: [size[0], size[1], count] as Vec3, spacing: [spacing[0], spacing[1], step] as Vec3, origin: first, direction };
  return { volume: { geometry, data }, warnings: [`${what}; the scan was resampled onto a regular grid of ${mm(step)} slices.`] };
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Linear interpolation between the two acquired slices around each output slice, each unsheared bilinearly. */
function resample(volume: Volume, along: number[], shiftI: number[], shiftJ: number[], step: number, count: number): VoxelArray {
  const [nx, ny] = volume.geometry.size;
  const source = volume.data;
  const plane = nx * ny;
  let background = Infinity;
  for (let n = 0; n < source.length; n++) if (source[n] < background) background = source[n];
  const output = new (source.constructor as new (n: number) => VoxelArray)(plane * count);
  const integer = !(source instanceof Float32Array || source instanceof Float64Array);
  const at = (k: number, x: number, y: number) => (x < 0 || y < 0 || x >= nx || y >= ny ? background : source[k * plane + y * nx + x]);
  const sample = (k: number, x: number, y: number) => {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const top = (1 - fx) * at(k, x0, y0) + fx * at(k, x0 + 1, y0);
    const bottom = (1 - fx) * at(k, x0, y0 + 1) + fx * at(k, x0 + 1, y0 + 1);
    return (1 - fy) * top + fy * bottom;
  };
  let k = 0;
  for (let t = 0; t < count; t++) {
    const position = t * step;
    while (k < along.length - 2 && along[k + 1] < position) k++;
    const weight = Math.min(1, Math.max(0, (position - along[k]) / (along[k + 1] - along[k])));
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        // Slice k lies shifted by (shiftI, shiftJ) voxels in its plane: undo it.
        const lower = sample(k, i - shiftI[k], j - shiftJ[k]);
        const upper = weight === 0 ? lower : sample(k + 1, i - shiftI[k + 1], j - shiftJ[k + 1]);
        const value = lower + weight * (upper - lower);
        output[t * plane + j * nx + i] = integer ? Math.round(value) : value;
      }
    }
  }
  return output;
}
