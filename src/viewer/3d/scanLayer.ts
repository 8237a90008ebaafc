/**
 * The scan in the 3D view: volume rendering with CT and MR presets, and the three slice planes in
 * place. Both use the slice views' image (index space with spacing, shared voxel buffer), placed
 * in patient coordinates by a user matrix (direction and origin).
 */
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
import vtkPiecewiseFunction from '@kitware/vtk.js/Common/DataModel/PiecewiseFunction';
import vtkColorTransferFunction from '@kitware/vtk.js/Rendering/Core/ColorTransferFunction';
import vtkImageMapper from '@kitware/vtk.js/Rendering/Core/ImageMapper';
import { SlicingMode } from '@kitware/vtk.js/Rendering/Core/ImageMapper/Constants';
import vtkImageSlice from '@kitware/vtk.js/Rendering/Core/ImageSlice';
import vtkRenderer from '@kitware/vtk.js/Rendering/Core/Renderer';
import vtkVolume from '@kitware/vtk.js/Rendering/Core/Volume';
import vtkVolumeMapper from '@kitware/vtk.js/Rendering/Core/VolumeMapper';
import '@kitware/vtk.js/Rendering/OpenGL/Profiles/Volume';
import type { ImageGeometry, Vec3 } from '../../core/types';

export type VolumePreset = 'ct-bone' | 'ct-soft-tissue' | 'ct-vessels' | 'mr';

export const VOLUME_PRESETS: { preset: VolumePreset; title: string }[] = [
  { preset: 'ct-bone', title: 'CT bone' },
  { preset: 'ct-soft-tissue', title: 'CT soft tissue' },
  { preset: 'ct-vessels', title: 'CT vessels (contrast)' },
  { preset: 'mr', title: 'MR' },
];

/** Transfer function points: [value, r, g, b, opacity]; CT in HU, MR in fractions of the 1-99% range. */
const PRESET_POINTS: Record<VolumePreset, [number, number, number, number, number][]> = {
  'ct-bone': [
    [150, 0.55, 0.25, 0.15, 0],
    [300, 0.88, 0.6, 0.29, 0.25],
    [700, 0.95, 0.9, 0.8, 0.7],
    [1500, 1, 1, 1, 0.9],
  ],
  'ct-soft-tissue': [
    [-300, 0.3, 0.1, 0.05, 0],
    [-50, 0.75, 0.55, 0.4, 0.05],
    [40, 0.85, 0.4, 0.35, 0.25],
    [120, 0.95, 0.75, 0.65, 0.4],
    [400, 1, 0.95, 0.9, 0.6],
  ],
  'ct-vessels': [
    [100, 0.5, 0.05, 0.05, 0],
    [180, 0.85, 0.2, 0.15, 0.3],
    [350, 1, 0.6, 0.45, 0.7],
    [1200, 1, 1, 0.95, 0.85],
  ],
  mr: [
    [0.1, 0, 0, 0, 0],
    [0.4, 0.6, 0.55, 0.5, 0.15],
    [0.8, 0.9, 0.88, 0.85, 0.5],
    [1, 1, 1, 1, 0.8],
  ],
};

/** Index -> patient matrix for an image already scaled by its spacing (column-major 4x4). */
function placement(geometry: ImageGeometry): Float32Array {
  const d = geometry.direction;
  return Float32Array.from([d[0], d[1], d[2], 0, d[3], d[4], d[5], 0, d[6], d[7], d[8], 0, ...geometry.origin, 1]);
}

export interface ScanScene {
  image: vtkImageData;
  geometry: ImageGeometry;
  /** 1st and 99th intensity percentiles (the MR preset spans them). */
  percentiles: [number, number];
}

export class ScanLayer {
  private readonly volume = vtkVolume.newInstance();
  private readonly volumeMapper = vtkVolumeMapper.newInstance();
  private readonly planes = [SlicingMode.I, SlicingMode.J, SlicingMode.K].map((mode) => {
    const mapper = vtkImageMapper.newInstance();
    mapper.setSlicingMode(mode);
    const actor = vtkImageSlice.newInstance();
    actor.setMapper(mapper);
    return { mapper, actor };
  });
  private scene: ScanScene | null = null;
  private preset: VolumePreset | null = null;
  private planesShown = false;

  constructor(private readonly renderer: vtkRenderer) {
    this.volume.setMapper(this.volumeMapper);
    this.volumeMapper.setSampleDistance(1);
  }

  setScene(scene: ScanScene | null): void {
    if (scene?.image === this.scene?.image) return;
    this.scene = scene;
    if (scene) {
      const matrix = placement(scene.geometry);
      this.volumeMapper.setInputData(scene.image);
      this.volume.setUserMatrix(matrix);
      // A sample per smallest voxel side, so thin structures are not skipped.
      this.volumeMapper.setSampleDistance(Math.min(...scene.geometry.spacing));
      for (const { mapper, actor } of this.planes) {
        mapper.setInputData(scene.image);
        actor.setUserMatrix(matrix);
      }
    }
    this.update();
  }

  /** Volume rendering with a preset, or none (null, the default: it costs much drawing time). */
  setPreset(preset: VolumePreset | null): void {
    this.preset = preset;
    this.update();
  }

  /** The three slice planes through `crosshair` (voxel index), drawn with the slice views' window. */
  setPlanes(shown: boolean, crosshair: Vec3, window: { width: number; center: number }): void {
    this.planesShown = shown;
    this.planes.forEach(({ mapper, actor }, axis) => {
      mapper.setSlice(crosshair[axis]);
      actor.getProperty().setColorWindow(window.width);
      actor.getProperty().setColorLevel(window.center);
    });
    this.update();
  }

  dispose(): void {
    this.renderer.removeVolume(this.volume);
    for (const { mapper, actor } of this.planes) {
      this.renderer.removeActor(actor);
      actor.delete();
      mapper.delete();
    }
    this.volume.delete();
    this.volumeMapper.delete();
  }

  private update(): void {
    const { scene, preset } = this;
    const showVolume = !!scene && !!preset;
    if (showVolume) {
      this.applyPreset(preset, scene);
      if (!this.renderer.getVolumes().includes(this.volume)) this.renderer.addVolume(this.volume);
    } else {
      this.renderer.removeVolume(this.volume);
    }
    for (const { actor } of this.planes) {
      if (scene && this.planesShown) {
        if (!this.renderer.getActors().includes(actor)) this.renderer.addActor(actor);
      } else {
        this.renderer.removeActor(actor);
      }
    }
  }

  private applyPreset(preset: VolumePreset, scene: ScanScene): void {
    const [low, high] = scene.percentiles;
    const value = (v: number) => (preset === 'mr' ? low + v * (high - low) : v);
    const color = vtkColorTransferFunction.newInstance();
    const opacity = vtkPiecewiseFunction.newInstance();
    for (const [v, r, g, b, a] of PRESET_POINTS[preset]) {
      color.addRGBPoint(value(v), r, g, b);
      opacity.addPoint(value(v), a);
    }
    const property = this.volume.getProperty();
    property.setRGBTransferFunction(0, color);
    property.setScalarOpacity(0, opacity);
    property.setInterpolationTypeToLinear();
    property.setShade(true);
    property.setAmbient(0.2);
    property.setDiffuse(0.7);
    property.setSpecular(0.3);
  }
}
