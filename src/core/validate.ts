/**
 * Checks on a decoded image before it becomes a Volume, and the error type every loader throws.
 * Messages are user-facing: "<file>: <reason>".
 */
import { geometryProblem } from './geometry';
import type { ImageGeometry, Mat3, Vec3, VoxelArray } from './types';

/** A file (or series) that could not be loaded, with a message naming it and the reason. */
export class LoadError extends Error {
  readonly fileName: string;
  readonly reason: string;

  constructor(fileName: string, reason: string, options?: { cause?: unknown }) {
    super(`${fileName}: ${reason}`, options);
    this.name = 'LoadError';
    this.fileName = fileName;
    this.reason = reason;
  }
}

/** What a reader knows about a decoded image, independent of the IO library. */
export interface DecodedImageInfo {
  /** Spatial dimension (2, 3 or 4). */
  dimension: number;
  size: number[];
  spacing: number[];
  origin: number[];
  /** dimension x dimension, column-major. */
  direction: ArrayLike<number>;
  /** Components per voxel (1 for scalar images, 3 for RGB, ...). */
  components: number;
  /** Element type name, e.g. 'int16', 'float32'. */
  componentType: string;
}

export interface ValidationOptions {
  /** Largest accepted number of voxels (memory budget). */
  maxVoxels?: number;
}

/** 512 x 512 x 1000: a long CT series still fits, a whole-body 0.5 mm scan does not. */
export const DEFAULT_MAX_VOXELS = 512 * 512 * 1000;

/** The voxel type name (itk-wasm's componentType) of each VoxelArray, by constructor name. */
export const VOXEL_TYPE_NAMES = {
  Int8Array: 'int8',
  Uint8Array: 'uint8',
  Int16Array: 'int16',
  Uint16Array: 'uint16',
  Int32Array: 'int32',
  Uint32Array: 'uint32',
  Float32Array: 'float32',
  Float64Array: 'float64',
} as const;
export type VoxelTypeName = (typeof VOXEL_TYPE_NAMES)[keyof typeof VOXEL_TYPE_NAMES];

const SUPPORTED_COMPONENT_TYPES = new Set<string>(Object.values(VOXEL_TYPE_NAMES));

/** 'int16' for an Int16Array, and so on. */
export function voxelTypeName(data: VoxelArray): VoxelTypeName {
  return VOXEL_TYPE_NAMES[data.constructor.name as keyof typeof VOXEL_TYPE_NAMES];
}

/** The reason an image cannot be used (without the file name), or null when it is fine. */
export function imageProblem(info: DecodedImageInfo, options: ValidationOptions = {}): string | null {
  const sizeText = info.size.join(' x ');
  if (info.dimension === 4 || (info.dimension > 4 && info.size.slice(3).some((n) => n > 1))) {
    return `it is a ${info.dimension}D image (${sizeText}); only single 3D volumes are supported`;
  }
  if (info.dimension < 3) return `it is a ${info.dimension}D image (${sizeText}); a 3D volume is needed`;
  if (info.components !== 1) {
    const kind = info.components === 3 || info.components === 4 ? 'colour (RGB)' : 'multi-component';
    return `it is a ${kind} image with ${info.components} values per voxel; only scalar (grey-level) images are supported`;
  }
  if (!SUPPORTED_COMPONENT_TYPES.has(info.componentType)) {
    return `its voxel type ${info.componentType} is not supported`;
  }
  const sizeProblem = voxelCountProblem(info.size.slice(0, 3), options);
  if (sizeProblem) return sizeProblem;
  const problem = geometryProblem(geometryFromInfo(info));
  return problem ? `invalid geometry: ${problem}` : null;
}

/**
 * Why an image of this size cannot be loaded (empty, or over the voxel budget), or null. Readers
 * call it on the header too, before allocating anything.
 */
export function voxelCountProblem(size: readonly number[], options: ValidationOptions = {}): string | null {
  const voxels = size.reduce((a, b) => a * b, 1);
  if (voxels === 0) return 'the image is empty (no voxels)';
  const maxVoxels = options.maxVoxels ?? DEFAULT_MAX_VOXELS;
  if (voxels > maxVoxels) {
    const millions = (n: number) => (n >= 1e5 ? (n / 1e6).toFixed(0) : (n / 1e6).toPrecision(2));
    return `the image is too large (${size.join(' x ')} = ${millions(voxels)} million voxels; the limit is ${millions(maxVoxels)} million)`;
  }
  return null;
}

/** Throws a LoadError naming the file when the image cannot be used. */
export function assertUsableImage(fileName: string, info: DecodedImageInfo, options?: ValidationOptions): void {
  const problem = imageProblem(info, options);
  if (problem) throw new LoadError(fileName, problem);
}

/** The 3D geometry of a decoded image (first three axes; direction taken from its 3x3 block). */
export function geometryFromInfo(info: DecodedImageInfo): ImageGeometry {
  const n = info.dimension;
  const direction = [] as number[];
  for (let c = 0; c < 3; c++) for (let r = 0; r < 3; r++) direction.push(info.direction[n * c + r]);
  return {
    size: info.size.slice(0, 3) as Vec3,
    spacing: info.spacing.slice(0, 3) as Vec3,
    origin: info.origin.slice(0, 3) as Vec3,
    direction: direction as Mat3,
  };
}
