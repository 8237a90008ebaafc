/**
 * Test image files on disk for unit and e2e tests: NIfTI, NRRD and DICOM series written by our
 * own encoders (independent of itk-wasm), an oblique LPS volume, and a set of bad inputs with the
 * message each must produce.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeDemoPhantom } from '../../src/core/phantom';
import type { ImageGeometry, Mat3, Vec3, Volume } from '../../src/core/types';
import { encodeDicomSeries, type DicomSeriesOptions } from './dicom-writer';
import { encodeNifti, encodeNrrd } from './raw-writers';

/** Column-major rotation: `degreesZ` about the S axis after `degreesX` about the L axis (right-handed). */
export function obliqueDirection(degreesZ = 30, degreesX = 15): Mat3 {
  const [cz, sz] = [Math.cos((degreesZ * Math.PI) / 180), Math.sin((degreesZ * Math.PI) / 180)];
  const [cx, sx] = [Math.cos((degreesX * Math.PI) / 180), Math.sin((degreesX * Math.PI) / 180)];
  // Rz * Rx, columns: Rz * (1,0,0), Rz * (0,cx,sx), Rz * (0,-sx,cx).
  return [cz, sz, 0, -sz * cx, cz * cx, sx, sz * sx, -cz * sx, cx];
}

/**
 * The demo phantom on a smaller, oblique, anisotropic LPS grid (96 x 96 x 60, 2 x 2 x 4 mm,
 * rotated 30 degrees about S and 15 degrees about L): same anatomy and asymmetric markers.
 */
export function obliqueLpsVolume(options: { size?: Vec3; spacing?: Vec3; direction?: Mat3 } = {}): Volume<Int16Array> {
  return makeDemoPhantom({
    size: options.size ?? [96, 96, 60],
    spacing: options.spacing ?? [2, 2, 4],
    direction: options.direction ?? obliqueDirection(),
  }).volume;
}

export function writeTestNifti(filePath: string, volume: Volume, options: { gzip?: boolean } = {}): string {
  writeFileSync(filePath, encodeNifti(volume.geometry, volume.data, { gzip: options.gzip ?? /\.gz$/.test(filePath) }));
  return filePath;
}

export function writeTestNrrd(filePath: string, volume: Volume): string {
  writeFileSync(filePath, encodeNrrd(volume.geometry, volume.data));
  return filePath;
}

/** Writes one DICOM file per slice (IM0001.dcm, ...) into `dir`; returns their paths. */
export function writeTestDicomSeries(dir: string, volume: Volume<Int16Array>, options: DicomSeriesOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const prefix = options.seriesNumber ? `S${options.seriesNumber}_` : '';
  return encodeDicomSeries(volume.geometry, volume.data, options).map((bytes, k) => {
    const filePath = path.join(dir, `${prefix}IM${String(k + 1).padStart(4, '0')}.dcm`);
    writeFileSync(filePath, bytes);
    return filePath;
  });
}

/** A small int16 test volume with a ramp, on the given direction. */
function smallVolume(direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1], size: Vec3 = [16, 12, 8]): Volume<Int16Array> {
  const n = size[0] * size[1] * size[2];
  return {
    geometry: { size, spacing: [1, 1, 2], origin: [0, 0, 0], direction },
    data: Int16Array.from({ length: n }, (_, o) => o % 1000),
  };
}

/** MetaImage (.mha) with attached int16 data, written as-is (lets tests store odd spacings). */
export function metaImage(geometry: ImageGeometry, data: Int16Array): Uint8Array {
  const header = [
    'ObjectType = Image',
    'NDims = 3',
    `DimSize = ${geometry.size.join(' ')}`,
    `ElementSpacing = ${geometry.spacing.join(' ')}`,
    `Offset = ${geometry.origin.join(' ')}`,
    `TransformMatrix = ${geometry.direction.join(' ')}`,
    'ElementType = MET_SHORT',
    'ElementByteOrderMSB = False',
    'ElementDataFile = LOCAL',
    '',
  ].join('\n');
  const head = new TextEncoder().encode(header);
  const file = new Uint8Array(head.length + data.byteLength);
  file.set(head);
  file.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), head.length);
  return file;
}

export interface BadFile {
  /** Short description of the case. */
  case: string;
  path: string;
  /** What the error message must say (besides the file name). */
  message: RegExp;
}

/** Writes every kind of bad input into `dir` and returns them with their expected messages. */
export function writeBadFiles(dir: string): BadFile[] {
  mkdirSync(dir, { recursive: true });
  const volume = smallVolume();
  const { geometry } = volume;
  const nifti = encodeNifti(geometry, volume.data);
  const niftiGz = encodeNifti(geometry, volume.data, { gzip: true });
  const write = (name: string, bytes: Uint8Array | string) => {
    const filePath = path.join(dir, name);
    writeFileSync(filePath, bytes);
    return filePath;
  };
  const rgb = new Uint8Array(geometry.size[0] * geometry.size[1] * geometry.size[2] * 3).fill(128);
  const fourD = new Int16Array(volume.data.length * 3);
  const files: BadFile[] = [
    {
      case: 'truncated NIfTI',
      path: write('truncated.nii', nifti.subarray(0, nifti.length - 500)),
      message: /truncated/,
    },
    {
      case: 'truncated compressed NIfTI',
      path: write('truncated.nii.gz', niftiGz.subarray(0, niftiGz.length >> 1)),
      message: /truncated or corrupt/,
    },
    {
      case: 'corrupt NIfTI (random bytes)',
      path: write(
        'corrupt.nii',
        Uint8Array.from({ length: 2000 }, (_, n) => (n * 7919) % 251),
      ),
      message: /not a readable NIfTI file/,
    },
    {
      case: 'corrupt NRRD (header only, no data)',
      path: write('corrupt.nrrd', encodeNrrd(geometry, volume.data).subarray(0, 200)),
      message: /could not be decoded: the file is corrupt or truncated/,
    },
    {
      case: '4D NIfTI',
      path: write('timeseries.nii', encodeNifti(geometry, fourD, { extraDims: [3] })),
      message: /4D image \(16 x 12 x 8 x 3\)/,
    },
    {
      case: 'RGB NIfTI',
      path: write('colour.nii', encodeNifti(geometry, rgb, { rgb: true })),
      message: /colour \(RGB\) image/,
    },
    {
      case: 'zero spacing NRRD',
      path: write('zero-spacing.nrrd', encodeNrrd({ ...geometry, spacing: [1, 0, 2] }, volume.data)),
      message: /spacing along y is zero/,
    },
    {
      case: 'negative spacing MetaImage',
      path: write('negative-spacing.mha', metaImage({ ...geometry, spacing: [1, -1, 2] }, volume.data)),
      message: /spacing along y is negative/,
    },
    {
      case: 'detached NRRD header (.nhdr without its data)',
      path: write('detached.nhdr', 'NRRD0004\ntype: short\ndimension: 3\nsizes: 16 12 8\nencoding: raw\ndata file: detached.raw\n\n'),
      message: /separate file \(detached\.raw\)/,
    },
    {
      case: 'unsupported format',
      path: write('notes.txt', 'This is not an image.\n'),
      message: /unsupported file format/,
    },
    {
      case: 'PNG image',
      path: write('photo.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])),
      message: /unsupported file format/,
    },
  ];
  return files;
}

/** A folder with two DICOM series (different descriptions) plus non-DICOM files to skip. */
export function writeMixedDicomFolder(dir: string): { series: { uid: string; files: string[] }[] } {
  const first = smallVolume();
  const second = smallVolume(undefined, [10, 10, 5]);
  const uids = ['2.25.1111', '2.25.2222'];
  const series = [
    {
      uid: uids[0],
      files: writeTestDicomSeries(dir, first, { seriesInstanceUid: uids[0], seriesDescription: 'Axial CT', seriesNumber: 1 }),
    },
    {
      uid: uids[1],
      files: writeTestDicomSeries(dir, second, { seriesInstanceUid: uids[1], seriesDescription: 'Scout', seriesNumber: 2, modality: 'MR' }),
    },
  ];
  writeFileSync(path.join(dir, 'README.txt'), 'not an image\n');
  writeFileSync(path.join(dir, 'thumbs.db'), new Uint8Array(300));
  return { series };
}
