import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
import type { Volume, VoxelArray } from '../core/types';

const INTEGER_RANGES: Record<string, [number, number]> = {
  Int8Array: [-128, 127],
  Uint8Array: [0, 255],
  Int16Array: [-32768, 32767],
  Uint16Array: [0, 65535],
  Int32Array: [-(2 ** 31), 2 ** 31 - 1],
  Uint32Array: [0, 2 ** 32 - 1],
};
const FLOAT_RANGE: [number, number] = [-3.4e38, 3.4e38];

/**
 * A range that surely holds every voxel: the voxel type's own. vtk only uses it to choose the
 * texture format (a range this wide rules out lossy half floats), and presetting it spares vtk
 * a scan of the whole buffer on the main thread at first render.
 */
function textureRange(data: VoxelArray): [number, number] {
  return INTEGER_RANGES[data.constructor.name] ?? FLOAT_RANGE;
}

/**
 * The volume as vtkImageData in image space (identity direction, zero origin, real spacing):
 * slices are cut along index axes and the cameras supply the radiological orientation, so
 * oblique and non-LPS images need no resampling. The voxel buffer is shared, not copied.
 */
function toVtkImage(volume: Volume): vtkImageData {
  const scalars = vtkDataArray.newInstance({ name: 'scalars', numberOfComponents: 1, values: volume.data });
  const [min, max] = textureRange(volume.data);
  scalars.setRange({ min, max }, 0);
  const image = vtkImageData.newInstance();
  image.setDimensions(volume.geometry.size);
  image.setSpacing(volume.geometry.spacing);
  image.setOrigin([0, 0, 0]);
  image.getPointData().setScalars(scalars);
  return image;
}

let cached: { key: string; image: vtkImageData } | null = null;

/** The vtk image of a volume version, built once and shared by the three views. */
export function vtkImageFor(key: string, volume: Volume): vtkImageData {
  if (cached?.key !== key) {
    cached?.image.delete();
    cached = { key, image: toVtkImage(volume) };
  }
  return cached.image;
}
