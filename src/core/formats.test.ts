import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { detachedDataFile, detectFormat, formatFromName, niftiExpectedByteLength, textHeaderSize } from './formats';

/** A minimal little-endian NIfTI-1 header: 4 x 5 x 6 int16. */
function niftiHeader(): Uint8Array {
  const bytes = new Uint8Array(352);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  [3, 4, 5, 6].forEach((n, d) => view.setInt16(40 + 2 * d, n, true));
  view.setInt16(70, 4, true);
  view.setInt16(72, 16, true);
  view.setFloat32(108, 352, true);
  bytes.set([0x6e, 0x2b, 0x31, 0], 344);
  return bytes;
}

function dicomHead(): Uint8Array {
  const bytes = new Uint8Array(200);
  bytes.set([0x44, 0x49, 0x43, 0x4d], 128); // 'DICM'
  return bytes;
}

const text = (s: string) => new TextEncoder().encode(s);

describe('format detection', () => {
  it('recognises formats by name', () => {
    expect(formatFromName('CT.NII.GZ')).toBe('nifti');
    expect(formatFromName('a.nii')).toBe('nifti');
    expect(formatFromName('a.nhdr')).toBe('nrrd');
    expect(formatFromName('seg.nrrd')).toBe('nrrd');
    expect(formatFromName('a.mha')).toBe('metaimage');
    expect(formatFromName('a.mhd')).toBe('metaimage');
    expect(formatFromName('IM0001.dcm')).toBe('dicom');
    expect(formatFromName('notes.txt')).toBe('unknown');
    expect(formatFromName('a.nii.zip')).toBe('unknown');
  });

  it('trusts magic bytes over the name', () => {
    expect(detectFormat('scan', niftiHeader())).toBe('nifti');
    expect(detectFormat('scan.dcm', niftiHeader())).toBe('nifti');
    expect(detectFormat('IM0001', dicomHead())).toBe('dicom');
    expect(detectFormat('x.bin', text('NRRD0004\ntype: short\n'))).toBe('nrrd');
    expect(detectFormat('x', text('ObjectType = Image\nNDims = 3\n'))).toBe('metaimage');
    expect(detectFormat('x', text('NDims = 3\nDimSize = 1 2 3\n'))).toBe('metaimage');
  });

  it('accepts gzip only as .nii.gz', () => {
    const gz = gzipSync(niftiHeader());
    expect(detectFormat('ct.nii.gz', gz)).toBe('nifti');
    expect(detectFormat('ct.tar.gz', gz)).toBe('unknown');
  });

  it('falls back to the name, and says unknown for anything else', () => {
    expect(detectFormat('broken.nii', new Uint8Array(10))).toBe('nifti');
    expect(detectFormat('old-dicom.dcm', new Uint8Array(300))).toBe('dicom');
    expect(detectFormat('photo.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBe('unknown');
    expect(detectFormat('empty', new Uint8Array())).toBe('unknown');
  });

  it('computes the byte length a NIfTI-1 header promises', () => {
    expect(niftiExpectedByteLength(niftiHeader())).toBe(352 + 4 * 5 * 6 * 2);
    expect(niftiExpectedByteLength(new Uint8Array(348))).toBeNull();
    expect(niftiExpectedByteLength(dicomHead())).toBeNull();
  });

  it('finds the separate data file of detached headers', () => {
    expect(detachedDataFile('nrrd', text('NRRD0004\ntype: short\ndata file: ct.raw.gz\n\n'))).toBe('ct.raw.gz');
    expect(detachedDataFile('nrrd', text('NRRD0005\ndatafile: a.raw\n\n'))).toBe('a.raw');
    // A "data file:" line after the header (inside attached data) does not count.
    expect(detachedDataFile('nrrd', text('NRRD0004\ntype: short\n\ndata file: x'))).toBeNull();
    expect(detachedDataFile('metaimage', text('NDims = 3\nElementDataFile = ct.raw\n'))).toBe('ct.raw');
    expect(detachedDataFile('metaimage', text('NDims = 3\nElementDataFile = LOCAL\n'))).toBeNull();
    expect(detachedDataFile('nifti', text('whatever'))).toBeNull();
  });
});

describe('text header sizes (checked before decoding)', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('reads what an NRRD and a MetaImage header declare', () => {
    expect(textHeaderSize('nrrd', bytes('NRRD0004\ntype: short\ndimension: 3\nsizes: 24 20 12\nencoding: gzip\n\n'))).toEqual({
      dimension: 3,
      sizes: [24, 20, 12],
      bytesPerValue: 2,
      gzip: true,
    });
    expect(textHeaderSize('metaimage', bytes('ObjectType = Image\nNDims = 3\nDimSize = 4 5 6\nElementType = MET_FLOAT\n'))).toEqual({
      dimension: 3,
      sizes: [4, 5, 6],
      bytesPerValue: 4,
      gzip: false,
    });
  });

  it('says which field is invalid', () => {
    expect(textHeaderSize('metaimage', bytes('NDims = -5\nDimSize = 4 5 6\n'))).toBe('invalid header: NDims is "-5"');
    expect(textHeaderSize('nrrd', bytes('NRRD0004\ndimension: \nsizes: 4 5 6\n\n'))).toBe('invalid header: dimension is ""');
    expect(textHeaderSize('nrrd', bytes('NRRD0004\ndimension: 3\nsizes: 4 0 6\n\n'))).toBe(
      'invalid header: sizes is "4 0 6" for 3 dimensions',
    );
  });
});
