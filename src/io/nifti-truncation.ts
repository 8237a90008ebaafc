/** Detects truncated NIfTI files, which ITK's reader would silently fill with zeros. */
import { Gunzip } from 'fflate';
import { isGzip, niftiExpectedByteLength, niftiSizes } from '../core/formats';

/** Compressed bytes enough to inflate the 352-byte header of any sane .nii.gz. */
export const NIFTI_HEAD_BYTES = 64 * 1024;

/** The first `wanted` bytes `compressed` (the start of a gzip stream) inflates to, or as many as it gives. */
export function gunzipPrefix(compressed: Uint8Array, wanted: number): Uint8Array {
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

const TRUNCATED_GZIP = 'the compressed file is truncated or corrupt (its length does not match its header)';

/**
 * Why gzip data whose inflated length should be `expected` bytes is damaged, or null. `tail` is
 * the stream's last 4 bytes: the gzip trailer holds the inflated length modulo 2^32, of the last
 * member only (0 for BGZF's empty end block: then the length cannot be told).
 */
export function gzipLengthProblem(tail: Uint8Array, expected: number): string | null {
  if (tail.length < 4) return TRUNCATED_GZIP;
  const inflated = new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true);
  return inflated !== 0 && inflated !== expected % 2 ** 32 ? TRUNCATED_GZIP : null;
}

/** The image size a NIfTI header (plain or gzip) declares, or null when it cannot be told. */
export function niftiHeaderSize(head: Uint8Array): number[] | null {
  return niftiSizes(isGzip(head) ? gunzipPrefix(head, 352) : head);
}

/**
 * Why a NIfTI file is truncated, or null when its length matches its header (or the header
 * cannot tell). `head` is its first NIFTI_HEAD_BYTES bytes, `tail` its last 4 bytes
 * (the gzip trailer holds the uncompressed length modulo 2^32, of the last member only: a rare
 * multi-member .nii.gz other than BGZF would be reported as corrupt).
 */
export function niftiTruncationProblem(head: Uint8Array, tail: Uint8Array, fileLength: number): string | null {
  const gzipped = isGzip(head);
  const header = gzipped ? gunzipPrefix(head, 352) : head;
  const expected = niftiExpectedByteLength(header);
  if (expected === null) return null;
  if (!gzipped) {
    return fileLength < expected ? `the file is truncated (${fileLength} bytes, its header needs ${expected})` : null;
  }
  return gzipLengthProblem(tail, expected);
}
