/** Checks on a file's bytes before decoding, for problems itk-wasm would miss or report badly. */
import { detachedDataFile, TEXT_HEADER_BYTES, textHeaderSize, type ImageFormat } from '../core/formats';
import { LoadError, voxelCountProblem, type ValidationOptions } from '../core/validate';
import { gzipLengthProblem, NIFTI_HEAD_BYTES, niftiHeaderSize, niftiTruncationProblem } from './nifti-truncation';

/** Reads bytes [start, end) of the file (fewer at its end). */
export type ByteRangeReader = (start: number, end: number) => Promise<Uint8Array>;

/**
 * Throws a LoadError for a detached NRRD/MetaImage header (its data is in another file), a
 * truncated NIfTI (ITK would fill the missing voxels with zeros), a header whose dimensions are
 * invalid or over the voxel budget (ITK would allocate them first), or gzip data whose length
 * does not match its header (a gzip bomb would be inflated whole).
 */
export async function assertReadableFile(
  fileName: string,
  format: ImageFormat,
  fileSize: number,
  readRange: ByteRangeReader,
  options: ValidationOptions = {},
): Promise<void> {
  const fail = (problem: string | null) => {
    if (problem) throw new LoadError(fileName, problem);
  };
  const tail = () => readRange(Math.max(0, fileSize - 4), fileSize);
  if (format === 'nrrd' || format === 'metaimage') {
    const head = await readRange(0, TEXT_HEADER_BYTES);
    const dataFile = detachedDataFile(format, head);
    if (dataFile) {
      fail(`this header keeps its voxels in a separate file (${dataFile}); convert it to a single .nrrd, .mha or .nii file`);
    }
    const declared = textHeaderSize(format, head);
    if (typeof declared === 'string') fail(declared);
    else {
      fail(voxelCountProblem(declared.sizes, options));
      if (declared.gzip && declared.bytesPerValue)
        fail(gzipLengthProblem(await tail(), declared.sizes.reduce((a, b) => a * b, 1) * declared.bytesPerValue));
    }
  }
  if (format === 'nifti') {
    const head = await readRange(0, NIFTI_HEAD_BYTES);
    const sizes = niftiHeaderSize(head);
    if (sizes) fail(voxelCountProblem(sizes, options));
    fail(niftiTruncationProblem(head, await tail(), fileSize));
  }
}
