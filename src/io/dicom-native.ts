/**
 * A DICOM series read straight from its files' bytes when every image stores its pixels
 * uncompressed (NativePixels): the common CT and MR case. ITK's series reader copies every file
 * into its WASM file system and decodes there, several times slower than reading the same bytes;
 * anything else (compressed, multi-frame, colour, big-endian, single files) still goes to ITK.
 * Slices are stacked along the plane normal by position, as ITK does; uneven or sheared stacks are
 * corrected afterwards by the same correctSliceStack as ITK's output.
 */
import { cross, dot, geometryProblem } from '../core/geometry';
import { sharedArray } from '../core/shared-voxels';
import { median } from '../core/slice-stack';
import type { Mat3, Vec3, Volume, VoxelArray } from '../core/types';
import { yieldToEventLoop } from '../core/yield';
import type { DicomHeader, NativePixels } from './dicom-header';
import type { NamedBytes } from './dicom-series';

/** Direction cosines closer than this count as the same orientation. */
const ORIENTATION_TOLERANCE = 1e-4;

type NativeSlice = { bytes: Uint8Array; header: DicomHeader & { nativePixels: NativePixels; position: number[]; orientation: number[] } };

/**
 * The series' volume, or null when ITK must read it: a file whose pixels are not native, sizes or
 * orientations that differ, a single file, or slices that share a position.
 */
export async function readNativeSeries(
  files: NamedBytes[],
  decoded: { index: number; header: DicomHeader | null }[],
): Promise<Volume | null> {
  const slices = decoded.map(({ index, header }) => ({ bytes: files[index].bytes, header }));
  if (slices.length < 2 || !slices.every(isNativeSlice)) return null;
  const first = slices[0].header;
  const sameGrid = slices.every(({ header: h }) => {
    const p = h.nativePixels;
    return (
      h.rows === first.rows &&
      h.columns === first.columns &&
      p.bitsAllocated === first.nativePixels.bitsAllocated &&
      p.signed === first.nativePixels.signed &&
      p.pixelSpacing.every((v, a) => v === first.nativePixels.pixelSpacing[a]) &&
      h.orientation.every((v, a) => Math.abs(v - first.orientation[a]) < ORIENTATION_TOLERANCE)
    );
  });
  if (!sameGrid) return null;

  const row = first.orientation.slice(0, 3) as Vec3;
  const column = first.orientation.slice(3, 6) as Vec3;
  const normal = cross(row, column);
  const along = (slice: NativeSlice) => dot(slice.header.position, normal);
  const sorted = [...slices].sort((a, b) => along(a) - along(b));
  const gaps = sorted.slice(1).map((slice, n) => along(slice) - along(sorted[n]));
  if (!(Math.min(...gaps) > 1e-3)) return null;

  const [rowSpacing, columnSpacing] = first.nativePixels.pixelSpacing;
  const geometry = {
    size: [first.columns, first.rows, sorted.length] as Vec3,
    spacing: [columnSpacing, rowSpacing, median(gaps)] as Vec3,
    origin: sorted[0].header.position.slice(0, 3) as Vec3,
    direction: [...row, ...column, ...normal] as Mat3,
  };
  if (geometryProblem(geometry)) return null;
  return { geometry, data: await stackPixels(sorted, first.rows * first.columns) };
}

function isNativeSlice(slice: { bytes: Uint8Array; header: DicomHeader | null }): slice is NativeSlice {
  const h = slice.header;
  return !!h?.nativePixels && h.position?.length === 3 && h.orientation?.length === 6;
}

/** Voxels stacked (or scanned) per task before yielding to the event loop: a few milliseconds. */
const VALUES_PER_TASK = 1 << 20;

/**
 * The slices' pixels, rescaled, one after another, in shared memory (sharedArray) and in tasks of
 * a few slices: stacking a 150 MB CT in one go blocked the page for half a second. Stored values
 * stay in their type when no slice rescales; rescaled integers that fit stay 16-bit (CT in
 * Hounsfield units: half the memory of float); anything else becomes float.
 */
async function stackPixels(slices: NativeSlice[], plane: number): Promise<VoxelArray> {
  const { bitsAllocated, signed } = slices[0].header.nativePixels;
  const Stored = bitsAllocated === 8 ? (signed ? Int8Array : Uint8Array) : signed ? Int16Array : Uint16Array;
  const stored = ({ bytes, header: { nativePixels: p } }: NativeSlice) => {
    const start = bytes.byteOffset + p.offset;
    // A typed view needs an aligned offset: the slice's bytes are copied when it is odd.
    if (start % Stored.BYTES_PER_ELEMENT === 0) return new Stored(bytes.buffer as ArrayBuffer, start, plane);
    return new Stored(bytes.slice(p.offset, p.offset + plane * Stored.BYTES_PER_ELEMENT).buffer, 0, plane);
  };
  const slicesPerTask = Math.max(1, Math.floor(VALUES_PER_TASK / plane));
  const rescales = slices.some(({ header: { nativePixels: p } }) => p.slope !== 1 || p.intercept !== 0);
  let fitsInt16 = rescales && slices.every(({ header: { nativePixels: p } }) => Number.isInteger(p.slope) && Number.isInteger(p.intercept));
  for (let k = 0; fitsInt16 && k < slices.length; k++) {
    if (k > 0 && k % slicesPerTask === 0) await yieldToEventLoop();
    const { slope, intercept } = slices[k].header.nativePixels;
    const values = stored(slices[k]);
    let [min, max] = [Infinity, -Infinity];
    for (let n = 0; n < plane; n++) {
      const v = values[n];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const ends = [min * slope + intercept, max * slope + intercept];
    fitsInt16 = Math.min(...ends) >= -32768 && Math.max(...ends) <= 32767;
  }
  const out = sharedArray<VoxelArray>(!rescales ? Stored : fitsInt16 ? Int16Array : Float32Array, plane * slices.length);
  for (let k = 0; k < slices.length; k++) {
    if (k > 0 && k % slicesPerTask === 0) await yieldToEventLoop();
    const { slope, intercept } = slices[k].header.nativePixels;
    const target = out.subarray(k * plane, (k + 1) * plane);
    const values = stored(slices[k]);
    if (!rescales) target.set(values);
    else for (let n = 0; n < plane; n++) target[n] = values[n] * slope + intercept;
  }
  return out;
}
