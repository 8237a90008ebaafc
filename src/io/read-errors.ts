/** Turning itk-wasm failures into user-facing LoadErrors (shared by the browser and Node readers). */
import { formatLabel, type ImageFormat } from '../core/formats';
import { LoadError } from '../core/validate';

export const SUPPORTED_FORMATS_TEXT = 'NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd) or DICOM';

export function unsupportedFormatError(fileName: string): LoadError {
  return new LoadError(fileName, `unsupported file format; open ${SUPPORTED_FORMATS_TEXT}`);
}

/** The reader said it cannot read the file although name/magic claimed the format. */
export function unreadableError(fileName: string, format: ImageFormat): LoadError {
  return new LoadError(fileName, `not a readable ${formatLabel(format)} file (corrupt or not really ${formatLabel(format)})`);
}

/**
 * A reader threw. Release builds of itk-wasm pipelines report C++ exceptions as a bare number,
 * so a useful ITK description is kept when there is one, otherwise a generic reason is given.
 */
export function decodeError(fileName: string, format: ImageFormat, error: unknown): LoadError {
  if (error instanceof LoadError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const description = /Description:\s*(.+)/.exec(text)?.[1]?.trim();
  const detail = description ? ` (${description})` : '';
  return new LoadError(fileName, `the ${formatLabel(format)} data could not be decoded: the file is corrupt or truncated${detail}`, {
    cause: error,
  });
}
