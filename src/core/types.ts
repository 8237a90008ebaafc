/**
 * Shared data types of the core. Conventions used everywhere in the project:
 * - World coordinates are LPS millimetres (ITK's convention, whatever the file format).
 * - world = origin + direction * diag(spacing) * index, index (i, j, k) at voxel centres.
 * - `direction` is a 3x3 matrix stored column-major (itk-wasm stores it row-major: src/io/itk-image.ts converts):
 *   direction[3 * c + r] is row r of column c, and column c is the world direction of index axis c.
 * - Voxel buffers are i-fastest (ITK order): offset = i + size[0] * (j + size[1] * k).
 */
export type Vec3 = [number, number, number];
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface ImageGeometry {
  size: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}

export type VoxelArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** A scalar 3D image: geometry plus an i-fastest voxel buffer. */
export interface Volume<T extends VoxelArray = VoxelArray> {
  geometry: ImageGeometry;
  data: T;
}
