/** Detects truncated NIfTI files, which ITK's reader would silently fill with zeros. */
import { Gunzip } from 'fflate';
import { isGzip, niftiExpectedByteLength } from '../core/formats';

/** Compressed bytes enough to inflate the 352-byte header of any sane .nii.gz. */
export const NIFTI_HEAD_BYTES = 64 * 1024;

function gunzipPrefix(compressed: Uint8Array, wanted: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 0;
  const gunzip = new Gunzip((chunk) => {
    parts.push(chunk);
    length += chunk.length;
  });
  try {
    gunzip.push(compressed, false);
  } catch {
    // A damaged stream: whatever inflated so far is all we have.
  }
  const result = new Uint8Array(Math.min(length, wanted));
  let offset = 0;
  for (const part of parts) {
    if (offset >= result.length) break;
    result.set(part.subarray(0, result.length - offset), offset);
    offset += part.length;
  }
  return result;
}

/**
 * Why a NIfTI file is truncated, or null when its length matches its header (or the header
 * cannot tell). `head` is its first NIFTI_HEAD_BYTES bytes, `tail` its last 4 bytes
 * (the gzip trailer holds the uncompressed length modulo 2^32).
 */
export function niftiTruncationProblem(head: Uint8Array, tail: Uint8Array, fileLength: number): string | null {
  const gzipped = isGzip(head);
  const header = gzipped ? gunzipPrefix(head, 352) : head;
  const expected = niftiExpectedByteLength(header);
  if (expected === null) return null;
  if (!gzipped) {
    return fileLength < expected
      ? `the file is truncated (${fileLength} bytes, its header needs ${expected})`
      : null;
  }
  const uncompressed = new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true);
  return uncompressed !== expected % 2 ** 32
    ? 'the compressed file is truncated or corrupt (its length does not match its header)'
    : null;
}
