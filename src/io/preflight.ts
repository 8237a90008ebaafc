/** Checks on a file's bytes before decoding, for problems itk-wasm would miss or report badly. */
import { detachedDataFile, TEXT_HEADER_BYTES, type ImageFormat } from '../core/formats';
import { LoadError } from '../core/validate';
import { NIFTI_HEAD_BYTES, niftiTruncationProblem } from './nifti-truncation';

/** Reads bytes [start, end) of the file (fewer at its end). */
export type ByteRangeReader = (start: number, end: number) => Promise<Uint8Array>;

/**
 * Throws a LoadError for a detached NRRD/MetaImage header (its data is in another file) or a
 * truncated NIfTI (ITK would fill the missing voxels with zeros).
 */
export async function assertReadableFile(
  fileName: string,
  format: ImageFormat,
  fileSize: number,
  readRange: ByteRangeReader,
): Promise<void> {
  if (format === 'nrrd' || format === 'metaimage') {
    const dataFile = detachedDataFile(format, await readRange(0, TEXT_HEADER_BYTES));
    if (dataFile) {
      throw new LoadError(
        fileName,
        `this header keeps its voxels in a separate file (${dataFile}); convert it to a single .nrrd, .mha or .nii file`,
      );
    }
  }
  if (format === 'nifti') {
    const head = await readRange(0, NIFTI_HEAD_BYTES);
    const problem = niftiTruncationProblem(head, await readRange(Math.max(0, fileSize - 4), fileSize), fileSize);
    if (problem) throw new LoadError(fileName, problem);
  }
}
