import '@kitware/vtk.js/Rendering/OpenGL/Profiles/Volume';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
import vtkImageMapper from '@kitware/vtk.js/Rendering/Core/ImageMapper';
import { SlicingMode } from '@kitware/vtk.js/Rendering/Core/ImageMapper/Constants';
import { InterpolationType } from '@kitware/vtk.js/Rendering/Core/ImageProperty/Constants';
import vtkImageSlice from '@kitware/vtk.js/Rendering/Core/ImageSlice';
import vtkRenderWindow from '@kitware/vtk.js/Rendering/Core/RenderWindow';
import vtkRenderer from '@kitware/vtk.js/Rendering/Core/Renderer';
// Importing the OpenGL render window registers the 'WebGL' view backend.
import type vtkOpenGLRenderWindow from '@kitware/vtk.js/Rendering/OpenGL/RenderWindow';
import '@kitware/vtk.js/Rendering/OpenGL/RenderWindow';
import { cross } from '../core/geometry';
import type { ImageGeometry, Vec3 } from '../core/types';
import type { WindowLevel } from '../core/tools/navigate';
import { DeferredFrames } from './deferredFrames';
import { cancelDraw, requestDraw } from './sharedFrames';
import type { PlaneViewport } from './planeViewport';

const SLICING_MODES = [SlicingMode.I, SlicingMode.J, SlicingMode.K] as const;

export interface SliceScene {
  geometry: ImageGeometry;
  viewport: PlaneViewport;
  /** Index along the view's normal axis. */
  sliceIndex: number;
  windowLevel: WindowLevel;
}

function unitVector(axis: number, sign: number): Vec3 {
  const v: Vec3 = [0, 0, 0];
  v[axis] = sign;
  return v;
}

/** A 2 x 2 x 1 image of zeros: black on black at vtk's default window (see SliceRenderer.warmUp). */
function warmUpImage(): vtkImageData {
  const image = vtkImageData.newInstance();
  image.setDimensions([2, 2, 1]);
  image.getPointData().setScalars(vtkDataArray.newInstance({ name: 'scalars', numberOfComponents: 1, values: new Int16Array(4) }));
  return image;
}

/** One slice view drawn by vtk.js into its own canvas; interaction is handled by the caller. */
export class SliceRenderer {
  private readonly renderWindow = vtkRenderWindow.newInstance();
  private readonly renderer = vtkRenderer.newInstance({ background: [0, 0, 0] });
  private readonly glWindow: vtkOpenGLRenderWindow;
  private readonly frames: DeferredFrames;
  private readonly mapper = vtkImageMapper.newInstance();
  private readonly actor = vtkImageSlice.newInstance();
  private image: vtkImageData | null = null;
  /** The image of the frame drawn last (shown once the GPU is done). */
  private drawnImage: vtkImageData | null = null;
  private pendingScene: SliceScene | null = null;
  private warmedUp = false;
  /** Called when a drawn frame shows (the first-render marks come from it). */
  onRendered: (() => void) | null = null;

  /**
   * `onContextRestored` is called when the browser gives back a lost WebGL context (a GPU process
   * crash or reset): vtk.js cannot draw the image again in it, so the owner makes a new renderer.
   */
  constructor(container: HTMLElement, onContextRestored: () => void) {
    this.glWindow = this.renderWindow.newAPISpecificView('WebGL') as vtkOpenGLRenderWindow;
    // Before vtk.js makes its context: the frames' own (see DeferredFrames). A render asked for
    // while a frame is in flight is drawn once that frame has shown.
    this.frames = new DeferredFrames(this.glWindow, 0);
    this.frames.onShown = () => {
      if (this.drawnImage === this.image) this.onRendered?.();
    };
    this.frames.onIdle = () => this.requestRender(this.pendingScene);
    this.glWindow.setContainer(container);
    this.glWindow.getCanvas()?.addEventListener('webglcontextrestored', onContextRestored);
    this.renderWindow.addView(this.glWindow);
    this.renderWindow.addRenderer(this.renderer);
    this.actor.setMapper(this.mapper);
    this.actor.getProperty().setInterpolationType(InterpolationType.NEAREST);
    this.renderer.getActiveCamera().setParallelProjection(true);
  }

  setImage(image: vtkImageData | null): void {
    if (image === this.image) return;
    this.image = image;
    if (image) {
      this.mapper.setInputData(image);
      if (!this.renderer.getActors().includes(this.actor)) this.renderer.addActor(this.actor);
    } else {
      this.renderer.removeActor(this.actor);
    }
  }

  /**
   * Draws an invisible image once, before the first scan, so that this view's shaders are compiled
   * (by vtk.js, and by the GPU, which compiles on first use) while the page is idle. With software
   * GL, compiling, uploading the first slice and reading the canvas back in one frame blocked the
   * page for 150 to 250 ms per view when a scan opened; the shaders do not depend on the voxel type.
   */
  warmUp(): void {
    if (this.warmedUp || this.image) return;
    this.warmedUp = true;
    this.setImage(warmUpImage());
    this.requestRender(null);
  }

  /** Sets the canvas size in CSS pixels (drawn at device resolution). */
  resize(width: number, height: number): void {
    const dpr = window.devicePixelRatio || 1;
    this.glWindow.setSize(Math.max(1, Math.round(width * dpr)), Math.max(1, Math.round(height * dpr)));
  }

  /** Draws the scene at a coming animation frame; several requests before it draw once. */
  requestRender(scene: SliceScene | null): void {
    this.pendingScene = scene;
    requestDraw(this.drawPendingScene);
  }

  /** Draws the latest requested scene (at a shared frame, see sharedFrames). */
  private readonly drawPendingScene = () => {
    // While a frame is in flight this render is only noted, and drawn once that frame has shown.
    const drawn = !this.frames.busy();
    this.render(this.pendingScene);
    if (drawn) this.drawnImage = this.image;
  };

  private render(scene: SliceScene | null): void {
    if (scene && this.image) {
      const { geometry: g, viewport: vp, sliceIndex } = scene;
      const { right, up, normalAxis } = vp.layout;
      this.mapper.setSlicingMode(SLICING_MODES[normalAxis]);
      this.mapper.setSlice(sliceIndex);
      const property = this.actor.getProperty();
      property.setColorWindow(scene.windowLevel.width);
      property.setColorLevel(scene.windowLevel.center);

      const rightVector = unitVector(right.indexAxis, right.sign);
      const upVector = unitVector(up.indexAxis, up.sign);
      const towardsScene = cross(upVector, rightVector);
      const focal: Vec3 = [0, 0, 0];
      focal[right.indexAxis] = right.sign * vp.center[0];
      focal[up.indexAxis] = up.sign * vp.center[1];
      focal[normalAxis] = sliceIndex * g.spacing[normalAxis];
      const distance = 10 * Math.max(...g.size.map((n, a) => n * g.spacing[a])) + 100;
      const camera = this.renderer.getActiveCamera();
      camera.setFocalPoint(...focal);
      camera.setPosition(
        focal[0] - towardsScene[0] * distance,
        focal[1] - towardsScene[1] * distance,
        focal[2] - towardsScene[2] * distance,
      );
      camera.setViewUp(...upVector);
      camera.setParallelScale((vp.height / 2) * vp.mmPerPixel);
      camera.setClippingRange(distance / 2, distance * 2);
    }
    this.renderWindow.render();
  }

  dispose(): void {
    cancelDraw(this.drawPendingScene);
    this.frames.dispose();
    this.actor.delete();
    this.mapper.delete();
    this.renderer.delete();
    this.glWindow.delete();
    this.renderWindow.delete();
  }
}
