/**
 * Conversion between itk-wasm's Image and our Volume.
 *
 * itk-wasm's `direction` is ROW-major (it is ITK's vnl matrix buffer, see itk-wasm's
 * getMatrixElement: data[column + row * columns]): direction[3 * r + c] is row r of column c.
 * Our Volume uses column-major (src/core/types.ts), so the 3x3 is transposed here and only here.
 * Verified with independently written oblique NIfTI, NRRD and DICOM files in tests/io-read.test.ts.
 */
import { Image, ImageType } from 'itk-wasm';
import type { Volume, VoxelArray } from '../core/types';
import { assertUsableImage, geometryFromInfo, voxelTypeName, type DecodedImageInfo, type ValidationOptions } from '../core/validate';

/** An N x N row-major matrix as column-major (the transpose of its buffer). */
function transposeSquare(matrix: ArrayLike<number>, n: number): number[] {
  const result: number[] = [];
  for (let c = 0; c < n; c++) for (let r = 0; r < n; r++) result.push(Number(matrix[n * r + c]));
  return result;
}

/** What our validation needs to know about an itk-wasm image. */
export function describeItkImage(image: Image): DecodedImageInfo {
  const n = image.imageType.dimension;
  return {
    dimension: n,
    size: [...image.size],
    spacing: [...image.spacing],
    origin: [...image.origin],
    direction: transposeSquare(image.direction as ArrayLike<number>, n),
    components: image.imageType.components,
    componentType: image.imageType.componentType,
  };
}

/**
 * Validates an itk-wasm image and wraps it as a Volume (the voxel buffer is shared, not copied).
 * Throws a LoadError naming `fileName` when it is not a usable scalar 3D volume.
 */
export function itkImageToVolume(image: Image, fileName: string, options?: ValidationOptions): Volume {
  const info = describeItkImage(image);
  assertUsableImage(fileName, info, options);
  // Scalar 3D image of a supported component type: its buffer is one of our VoxelArray types.
  return { geometry: geometryFromInfo(info), data: image.data as VoxelArray };
}

/** An itk-wasm Image sharing the volume's voxel buffer (for writers). */
export function volumeToItkImage(volume: Volume, name = 'image'): Image {
  const componentType = voxelTypeName(volume.data);
  const image = new Image(new ImageType(3, componentType, 'Scalar', 1));
  const { size, spacing, origin, direction } = volume.geometry;
  image.name = name;
  image.size = [...size];
  image.spacing = [...spacing];
  image.origin = [...origin];
  image.direction = new Float64Array(transposeSquare(direction, 3));
  image.data = volume.data;
  return image;
}

/** A labelmap as dcmqi's DICOM SEG writer takes it: it reads label images as signed 16-bit. */
export function labelmapToDicomSegImage(labelmap: Volume<Uint8Array>, name: string): Image {
  return volumeToItkImage({ geometry: labelmap.geometry, data: Int16Array.from(labelmap.data) }, name);
}
