import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
import type { Volume } from '../core/types';

/**
 * The volume as vtkImageData in image space (identity direction, zero origin, real spacing):
 * slices are cut along index axes and the cameras supply the radiological orientation, so
 * oblique and non-LPS images need no resampling. The voxel buffer is shared, not copied.
 */
export function toVtkImage(volume: Volume, range: [number, number]): vtkImageData {
  const scalars = vtkDataArray.newInstance({ name: 'scalars', numberOfComponents: 1, values: volume.data });
  // Preset range: vtk would otherwise scan the whole buffer on the main thread at first render.
  scalars.setRange({ min: range[0], max: range[1] }, 0);
  const image = vtkImageData.newInstance();
  image.setDimensions(volume.geometry.size);
  image.setSpacing(volume.geometry.spacing);
  image.setOrigin([0, 0, 0]);
  image.getPointData().setScalars(scalars);
  return image;
}

let cached: { key: string; image: vtkImageData } | null = null;

/** The vtk image of a volume version, built once and shared by the three views. */
export function vtkImageFor(key: string, volume: Volume, range: [number, number]): vtkImageData {
  if (cached?.key !== key) {
    cached?.image.delete();
    cached = { key, image: toVtkImage(volume, range) };
  }
  return cached.image;
}
