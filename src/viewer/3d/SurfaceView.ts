import '@kitware/vtk.js/Rendering/OpenGL/Profiles/Geometry';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData';
import vtkOrientationMarkerWidget from '@kitware/vtk.js/Interaction/Widgets/OrientationMarkerWidget';
import vtkInteractorStyleTrackballCamera from '@kitware/vtk.js/Interaction/Style/InteractorStyleTrackballCamera';
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor';
import vtkAnnotatedCubeActor from '@kitware/vtk.js/Rendering/Core/AnnotatedCubeActor';
import vtkCellPicker from '@kitware/vtk.js/Rendering/Core/CellPicker';
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper';
import vtkRenderWindow from '@kitware/vtk.js/Rendering/Core/RenderWindow';
import vtkRenderWindowInteractor from '@kitware/vtk.js/Rendering/Core/RenderWindowInteractor';
import vtkRenderer from '@kitware/vtk.js/Rendering/Core/Renderer';
// Importing the OpenGL render window registers the 'WebGL' view backend.
import type vtkOpenGLRenderWindow from '@kitware/vtk.js/Rendering/OpenGL/RenderWindow';
import '@kitware/vtk.js/Rendering/OpenGL/RenderWindow';
import { cellCount, mergeCellMeshes, type CellMesh } from '../../core/surface/cell-mesh';
import { DeferredFrames } from '../deferredFrames';
import { cancelDraw, requestDraw } from '../sharedFrames';
import { ScanLayer, type ScanScene, type VolumePreset } from './scanLayer';
import type { Vec3 } from '../../core/types';

export interface SurfaceStyle {
  label: number;
  /** 0-255 */
  color: [number, number, number];
  visible: boolean;
  opacity: number;
}

/** World bounds: [xmin, xmax, ymin, ymax, zmin, zmax]. */
export type Bounds = [number, number, number, number, number, number];

/** Standard views, named by the side of the patient the camera looks from. */
export type StandardView = 'A' | 'P' | 'L' | 'R' | 'S' | 'I';

/** Camera direction (from the focal point towards the camera) and view-up of each standard view, LPS. */
const STANDARD_VIEWS: Record<StandardView, { towardsCamera: Vec3; up: Vec3 }> = {
  A: { towardsCamera: [0, -1, 0], up: [0, 0, 1] },
  P: { towardsCamera: [0, 1, 0], up: [0, 0, 1] },
  L: { towardsCamera: [1, 0, 0], up: [0, 0, 1] },
  R: { towardsCamera: [-1, 0, 0], up: [0, 0, 1] },
  S: { towardsCamera: [0, 0, 1], up: [0, -1, 0] },
  I: { towardsCamera: [0, 0, -1], up: [0, -1, 0] },
};

/**
 * Work a frame does at most (besides one mesh) putting meshes on screen, in triangles: vtk.js
 * builds a mesh's vertex buffers on the main thread when it is first drawn, about 0.5 us a
 * triangle here, and its OpenGL objects, about as long as LAYER_COST triangles (bench:3d profile).
 * Coarse layers made again and detailed meshes drawn for the first time come at most this much a
 * frame.
 */
const FRAME_TRIANGLES = 40_000;
const LAYER_COST = 8_000;

/**
 * A frame's work in time: where a frame's work takes longer a triangle than FRAME_TRIANGLES
 * assumes (a CPU the encoder keeps busy: frames that placed surfaces took 60-120 ms in a trace of
 * bench:segment's first click), the next frames do as much less. FRAME_TRIANGLES stays the most.
 */
const FRAME_WORK_MS = FRAME_TRIANGLES * 0.0005;
/** The least work a frame does (besides its one mesh): surfaces keep arriving on a slow CPU. */
const FRAME_TRIANGLES_MIN = 5_000;

/**
 * Detailed triangles the view draws at most: above it, the coarse meshes stay drawn. Software
 * WebGL draws about a million triangles a second, and a frame's buffers go to it at once (the
 * page's main thread waits meanwhile); a noisy mask can have millions even after simplification.
 */
export const DETAILED_TRIANGLES_MAX = 400_000;

/** Quiet time after the last surface arrived before the detailed meshes are drawn again. */
const SETTLE_MS = 800;

/**
 * Layers of removed pieces kept, hidden, for new pieces: refilling a layer's buffers costs its
 * triangles, while a new layer also makes its vtk.js objects and their OpenGL nodes (LAYER_COST).
 */
const SPARE_LAYERS_MAX = 32;

/** Layers made while the view opens (see SurfaceView.warmUp): a 128^3-patch-sized part is 8 chunks. */
const WARM_UP_LAYERS = 8;

interface MeshLayer {
  polyData: vtkPolyData;
  mapper: vtkMapper;
  actor: vtkActor;
}

/** A segment's surface within one chunk: detailed, and coarse for moving frames (null: the same). */
interface SurfacePiece {
  mesh: CellMesh;
  coarseMesh: CellMesh | null;
  /** The detailed mesh's layer, made when first drawn (see showLevel). */
  detailed: MeshLayer | null;
}

/**
 * A segment's pieces whose chunk indices share COARSE_GROUP_CHUNKS: each has its detailed layer,
 * and their coarse meshes are one layer, made again when drawn after a piece changed. A layer per
 * coarse mesh cost each new piece 10-20 ms of vtk.js and OpenGL work while the encoder loaded the
 * CPU, refilled or not: a first click's part of 32 chunks was a 234 ms frame (a first click's
 * profile, production build).
 */
interface PieceGroup {
  pieces: Map<number, SurfacePiece>;
  coarse: MeshLayer | null;
  coarseStale: boolean;
}

/** Chunks a coarse layer covers at most: remaking it stays within FRAME_TRIANGLES (coarse meshes have 1000). */
const COARSE_GROUP_CHUNKS = 32;

/** Movement (CSS px) below which a press and release on the view is a click, not a rotation. */
const CLICK_SLOP_PX = 4;

/**
 * The 3D view: segment surfaces in patient (LPS mm) coordinates, a trackball camera (left drag
 * rotates, Shift+drag or middle drag pans, wheel or right drag zooms), an orientation marker with
 * the patient's axes, and picking. It draws only when something changed and while active.
 */
export class SurfaceView {
  private readonly renderWindow = vtkRenderWindow.newInstance();
  private readonly renderer = vtkRenderer.newInstance({ background: [0.06, 0.07, 0.09] });
  private readonly glWindow: vtkOpenGLRenderWindow;
  private readonly frames: DeferredFrames;
  private readonly interactor = vtkRenderWindowInteractor.newInstance();
  private readonly marker: vtkOrientationMarkerWidget;
  private readonly picker = vtkCellPicker.newInstance();
  private readonly scan = new ScanLayer(this.renderer);
  /** Each segment's surface as pieces, one per chunk (128 voxels across) it crosses, in groups by chunk index. */
  private readonly segments = new Map<number, Map<number, PieceGroup>>();
  /** New chunk meshes not yet in place, by "label:chunk". */
  private readonly pendingPieces = new Map<string, { label: number; chunk: number; mesh: CellMesh; coarse: CellMesh | null }>();
  /** Pieces were placed since the camera last framed the surfaces drawn. */
  private framingOwed = false;
  /** Coarse meshes are drawn while the camera moves, until surfaces stop arriving, and while more are coming. */
  private moving = false;
  private arriving = false;
  private moreComing = false;
  /** Triangles of all detailed meshes in place. */
  private detailedTriangles = 0;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Layers drawing a triangle of no area until the first surface is placed: they compile the
   * surface shader and make their vtk.js objects and OpenGL nodes while the view opens; the first
   * surfaces then refill them as spare layers. (Dropped at the first frame shown, the triangle had
   * not been drawn: that frame can come before vtk.js draws the scene, and the first surface
   * compiled the shader: 28 ms of a 68 ms task.)
   */
  private readonly warmUp: MeshLayer[] = [];
  private readonly spareLayers: MeshLayer[] = [];
  private styles = new Map<number, SurfaceStyle>();
  /** Work a frame does at most now (see FRAME_WORK_MS). */
  private frameTriangles = FRAME_TRIANGLES;
  private active = true;
  private pressedAt: [number, number] | null = null;
  /** Until the user moves the camera, it keeps every surface in view as they come and grow. */
  private cameraMoved = false;
  private readonly container: HTMLElement;
  /** The scan's world bounds [xmin, xmax, ymin, ymax, zmin, zmax]: what a camera reset frames when no surface shows. */
  private sceneBounds: Bounds | null = null;
  /** Called when a drawn frame shows. */
  onRendered: (() => void) | null = null;
  /** Called at the end of each of the view's animation-frame callbacks with when it began. */
  onFrameWork: ((startedAt: number) => void) | null = null;
  /** Called with the LPS point of a surface clicked without dragging. */
  onPick: ((world: Vec3) => void) | null = null;

  constructor(container: HTMLElement, onContextRestored: () => void) {
    this.container = container;
    this.glWindow = this.renderWindow.newAPISpecificView('WebGL') as vtkOpenGLRenderWindow;
    this.frames = new DeferredFrames(this.glWindow);
    this.frames.onShown = () => this.onRendered?.();
    this.frames.onIdle = () => this.requestRender();
    this.glWindow.setContainer(container);
    const canvas = this.glWindow.getCanvas();
    canvas?.addEventListener('webglcontextrestored', onContextRestored);
    this.renderWindow.addView(this.glWindow);
    this.renderWindow.addRenderer(this.renderer);

    this.interactor.setView(this.glWindow);
    this.interactor.initialize();
    this.interactor.bindEvents(container);
    this.interactor.setInteractorStyle(vtkInteractorStyleTrackballCamera.newInstance());
    // While the camera moves, coarse meshes; the interactor draws once more after it stops.
    this.interactor.onStartAnimation(() => {
      this.moving = true;
      this.frames.direct = true;
      this.showLevel();
    });
    this.interactor.onEndAnimation(() => {
      this.moving = false;
      this.frames.direct = false;
      this.showLevel();
    });

    const cube = vtkAnnotatedCubeActor.newInstance();
    cube.setDefaultStyle({
      fontStyle: 'bold',
      fontFamily: 'Arial',
      fontColor: 'black',
      faceColor: '#c8ccd4',
      edgeThickness: 0.08,
      edgeColor: 'black',
      resolution: 200,
    });
    // The scene is in LPS patient coordinates: +x is the patient's left, +y posterior, +z superior.
    cube.setXPlusFaceProperty({ text: 'L' });
    cube.setXMinusFaceProperty({ text: 'R' });
    cube.setYPlusFaceProperty({ text: 'P' });
    cube.setYMinusFaceProperty({ text: 'A' });
    cube.setZPlusFaceProperty({ text: 'S' });
    cube.setZMinusFaceProperty({ text: 'I' });
    this.marker = vtkOrientationMarkerWidget.newInstance({ actor: cube, interactor: this.interactor });
    this.marker.setViewportCorner(vtkOrientationMarkerWidget.Corners.BOTTOM_LEFT);
    this.marker.setViewportSize(0.18);
    this.marker.setMinPixelSize(60);
    this.marker.setMaxPixelSize(140);
    this.marker.setEnabled(true);

    this.picker.setPickFromList(true);
    this.picker.setTolerance(0);
    container.addEventListener('pointerdown', this.onPointerDown);
    container.addEventListener('pointerup', this.onPointerUp);
    this.setStandardView('A');
    // The first surface would otherwise wait for the shader's compilation (50-100 ms, bench:3d profile).
    const triangle: CellMesh = {
      positions: new Float32Array(9),
      normals: new Float32Array([0, 0, 1, 0, 0, 1, 0, 0, 1]),
      polys: new Uint32Array([3, 0, 1, 2]),
    };
    for (let n = 0; n < WARM_UP_LAYERS; n++) {
      const layer = this.newLayer(0, triangle);
      layer.actor.setUseBounds(false);
      this.picker.deletePickList(layer.actor);
      this.warmUp.push(layer);
    }
  }

  /**
   * Replaces a segment's surface within one chunk (an empty mesh removes it). Pieces are put in
   * place at the next frames, at most FRAME_TRIANGLES a frame, so no frame builds more than that.
   */
  setChunk(label: number, chunk: number, mesh: CellMesh, coarse: CellMesh | null): void {
    this.pendingPieces.set(`${label}:${chunk}`, { label, chunk, mesh, coarse });
    this.arriving = true;
    if (this.settleTimer !== null) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      this.arriving = false;
      this.showLevel();
      this.requestRender();
    }, SETTLE_MS);
    this.requestRender();
  }

  /** Removes every surface. */
  clearSurfaces(): void {
    this.pendingPieces.clear();
    for (const [label, groups] of [...this.segments]) {
      for (const group of [...groups.values()]) for (const chunk of [...group.pieces.keys()]) this.removePiece(label, chunk);
    }
    this.requestRender();
  }

  /**
   * Whether more surfaces are on their way (a click is running): until then the coarse meshes stay
   * drawn, as while surfaces arrive. Between a long click's parts (seconds apart while the encoder
   * runs) the detailed meshes would otherwise be built, only to be replaced by the next part's, and
   * building them is main-thread work competing with the encoder for the CPU.
   */
  setMoreComing(more: boolean): void {
    if (more === this.moreComing) return;
    this.moreComing = more;
    this.showLevel();
    this.requestRender();
  }

  /** Whether surfaces wait to be put in place (the frame after the last of them shows them all). */
  hasPendingSurfaces(): boolean {
    return this.pendingPieces.size > 0;
  }

  /** Colour, visibility and opacity of each segment (segments not listed are hidden). */
  setStyles(styles: readonly SurfaceStyle[]): void {
    // The segments' table changes with every edit (voxel counts): a frame only when a style did.
    const same = (a: SurfaceStyle, b: SurfaceStyle | undefined) =>
      b !== undefined && a.visible === b.visible && a.opacity === b.opacity && a.color.every((c, n) => c === b.color[n]);
    if (styles.length === this.styles.size && styles.every((style) => same(style, this.styles.get(style.label)))) return;
    this.styles = new Map(styles.map((s) => [s.label, s]));
    for (const label of this.segments.keys()) for (const layer of this.layers(label)) this.applyStyle(label, layer.actor);
    this.showLevel();
    this.requestRender();
  }

  /** The scan shown as a volume or slice planes (neither until asked). */
  setScan(scene: ScanScene | null): void {
    this.scan.setScene(scene);
    this.requestRender();
  }

  /** Volume rendering of the scan with a preset; null turns it off. */
  setVolumePreset(preset: VolumePreset | null): void {
    this.scan.setPreset(preset);
    this.requestRender();
  }

  /** Shows or hides the three slice planes at the crosshair voxel. */
  setSlicePlanes(shown: boolean, crosshair: Vec3, window: { width: number; center: number }): void {
    this.scan.setPlanes(shown, crosshair, window);
    this.requestRender();
  }

  /** The scan's world bounds, framed by a camera reset when no surface is shown. */
  setSceneBounds(bounds: Bounds | null): void {
    this.sceneBounds = bounds;
  }

  /** Looks at the visible surfaces (or the scan) from the standard side. */
  setStandardView(view: StandardView): void {
    const { towardsCamera, up } = STANDARD_VIEWS[view];
    const camera = this.renderer.getActiveCamera();
    camera.setFocalPoint(0, 0, 0);
    camera.setPosition(...towardsCamera);
    camera.setViewUp(...up);
    this.cameraMoved = false;
    this.resetCamera();
  }

  /** Frames the visible surfaces (or the scan) keeping the view direction. */
  resetCamera(): void {
    this.frameVisible();
    this.requestRender();
  }

  /** Sets the canvas size in CSS pixels (drawn at device resolution). */
  resize(width: number, height: number): void {
    const dpr = window.devicePixelRatio || 1;
    this.glWindow.setSize(Math.max(1, Math.round(width * dpr)), Math.max(1, Math.round(height * dpr)));
    this.marker.updateViewport();
    this.requestRender();
  }

  /** An inactive view (hidden) draws nothing; activating it draws what changed meanwhile. */
  setActive(active: boolean): void {
    this.active = active;
    if (active) this.requestRender();
  }

  /**
   * Draws at a coming animation frame, shared with the slice views and overlays (see sharedFrames);
   * requests before it draw once. While a frame is in flight (see DeferredFrames) the render is
   * only noted, and asked for again when it has shown.
   */
  requestRender(): void {
    if (this.active) requestDraw(this.drawFrame);
  }

  private readonly drawFrame = () => {
    const startedAt = performance.now();
    if (!this.active) return;
    let work = 0;
    if (!this.frames.busy()) {
      const budget = this.frameTriangles;
      work = this.placePendingPieces(budget);
      const level = this.showLevel(budget - work);
      work += level.work;
      // Once a frame for the pieces placed, until all are drawn: framing measures the layers drawn.
      if (this.framingOwed && !this.cameraMoved) this.frameVisible();
      if (!level.deferred) this.framingOwed = false;
    }
    this.renderWindow.render();
    if (work > 0) this.adaptFrameTriangles(work, performance.now() - startedAt);
    if (this.pendingPieces.size > 0) this.requestRender();
    this.onFrameWork?.(startedAt);
  };

  /** A PNG of the view as it is drawn now (data URL). */
  async screenshot(): Promise<string | null> {
    const image = this.glWindow.captureNextImage('image/png');
    this.frames.drawNow(() => this.renderWindow.render());
    return image;
  }

  /** The LPS point of the surface under a CSS-pixel position in the view, or null. */
  pick(x: number, y: number): Vec3 | null {
    // A pick ends the wait for more surfaces: the detailed ones are drawn unless there are too many.
    if (this.arriving) {
      this.arriving = false;
      this.showLevel();
      this.requestRender();
    }
    // The picker tests the visible actors on the CPU: the detailed meshes where they are made,
    // whichever are drawn, and a group's coarse layer until all of its are.
    const drawn = [...this.segments].flatMap(([label, groups]) => {
      const layers = this.layers(label).map((layer) => ({ actor: layer.actor, visible: layer.actor.getVisibility() }));
      const shown = this.styleVisible(label);
      for (const group of groups.values()) {
        for (const piece of group.pieces.values()) piece.detailed?.actor.setVisibility(shown);
        group.coarse?.actor.setVisibility(shown && !allDetailed(group));
      }
      return layers;
    });
    const dpr = window.devicePixelRatio || 1;
    const [, height] = this.glWindow.getSize();
    this.picker.pick([x * dpr, height - y * dpr, 0], this.renderer);
    for (const { actor, visible } of drawn) actor.setVisibility(visible);
    if (this.picker.getActors().length === 0) return null;
    return this.picker.getPickPosition() as Vec3;
  }

  dispose(): void {
    // Clearing its surfaces below asks for a render: a disposed view draws nothing.
    this.active = false;
    cancelDraw(this.drawFrame);
    if (this.settleTimer !== null) clearTimeout(this.settleTimer);
    this.container.removeEventListener('pointerdown', this.onPointerDown);
    this.container.removeEventListener('pointerup', this.onPointerUp);
    this.marker.setEnabled(false);
    this.marker.delete();
    this.scan.dispose();
    this.clearSurfaces();
    this.dropWarmUp();
    for (const layer of this.spareLayers.splice(0)) this.deleteLayer(layer);
    this.frames.dispose();
    this.interactor.unbindEvents();
    this.interactor.delete();
    this.renderer.delete();
    this.glWindow.delete();
    this.renderWindow.delete();
  }

  private frameVisible(): void {
    const visible = [...this.segments.keys()].some((label) => this.styleVisible(label));
    if (visible) this.renderer.resetCamera();
    else if (this.sceneBounds) this.renderer.resetCamera(this.sceneBounds);
  }

  /**
   * Puts pending pieces in place, the oldest first, up to `budget` of work (at least one piece);
   * returns the work done. While coarse meshes are drawn, a piece only joins its group,
   * whose coarse layer showLevel makes again.
   */
  private placePendingPieces(budget: number): number {
    if (this.pendingPieces.size > 0) this.dropWarmUp();
    let work = 0;
    for (const [key, { label, chunk, mesh, coarse }] of this.pendingPieces) {
      const cost = this.coarseShown() ? 0 : this.layerCost(mesh);
      if (work > 0 && work + cost > budget) break;
      work += cost;
      this.pendingPieces.delete(key);
      this.placePiece(label, chunk, mesh, coarse);
      this.framingOwed = true;
    }
    return work;
  }

  private coarseShown(): boolean {
    return this.moving || this.arriving || this.moreComing || this.detailedTriangles > DETAILED_TRIANGLES_MAX;
  }

  private placePiece(label: number, chunk: number, mesh: CellMesh, coarseMesh: CellMesh | null): void {
    this.removePiece(label, chunk);
    if (mesh.polys.length === 0) return;
    let groups = this.segments.get(label);
    if (!groups) this.segments.set(label, (groups = new Map()));
    const index = groupIndex(chunk);
    let group = groups.get(index);
    if (!group) groups.set(index, (group = { pieces: new Map(), coarse: null, coarseStale: true }));
    // Drawn in detail now, its layer is made at once (placePendingPieces counted it).
    const piece: SurfacePiece = { mesh, coarseMesh, detailed: null };
    if (!this.coarseShown()) this.makeDetailed(label, piece);
    group.pieces.set(chunk, piece);
    group.coarseStale = true;
    this.detailedTriangles += cellCount(mesh);
  }

  /** The work of making a group's coarse layer again (see FRAME_TRIANGLES). */
  private coarseCost(group: PieceGroup): number {
    let triangles = 0;
    for (const piece of group.pieces.values()) triangles += cellCount(piece.coarseMesh ?? piece.mesh);
    return group.coarse ? triangles : this.newLayerCost() + triangles;
  }

  private makeCoarse(label: number, group: PieceGroup): void {
    const mesh = mergeCellMeshes([...group.pieces.values()].map((piece) => piece.coarseMesh ?? piece.mesh));
    if (group.coarse) setMesh(group.coarse.polyData, mesh);
    else group.coarse = this.newLayer(label, mesh);
    group.coarseStale = false;
  }

  /** The warm-up's work is done once a surface is placed: the frames since the view opened drew it. */
  private dropWarmUp(): void {
    for (const layer of this.warmUp.splice(0)) {
      layer.actor.setUseBounds(true);
      this.releaseLayer(layer);
    }
  }

  private makeDetailed(label: number, piece: SurfacePiece): MeshLayer {
    return (piece.detailed = this.newLayer(label, piece.mesh));
  }

  /** The work of drawing `mesh` in a layer for the first time (see FRAME_TRIANGLES). */
  private layerCost(mesh: CellMesh): number {
    return cellCount(mesh) + this.newLayerCost();
  }

  /** The work of a layer's vtk.js objects and OpenGL nodes: none for a spare layer. */
  private newLayerCost(): number {
    return this.spareLayers.length > 0 ? 0 : LAYER_COST;
  }

  /** A layer drawing `mesh`: a spare one refilled, or a new one. */
  private newLayer(label: number, mesh: CellMesh): MeshLayer {
    const layer = this.spareLayers.pop() ?? this.makeLayer();
    setMesh(layer.polyData, mesh);
    layer.actor.setVisibility(true);
    this.applyStyle(label, layer.actor);
    this.picker.addPickList(layer.actor);
    return layer;
  }

  private makeLayer(): MeshLayer {
    const polyData = vtkPolyData.newInstance();
    const mapper = vtkMapper.newInstance({ scalarVisibility: false });
    mapper.setInputData(polyData);
    const actor = vtkActor.newInstance();
    actor.setMapper(mapper);
    actor.getProperty().setSpecular(0.2);
    actor.getProperty().setSpecularPower(20);
    this.renderer.addActor(actor);
    return { polyData, mapper, actor };
  }

  /** A layer no longer drawn: kept hidden and empty for a new piece while there are few, else deleted. */
  private releaseLayer(layer: MeshLayer): void {
    if (this.spareLayers.length >= SPARE_LAYERS_MAX) return this.deleteLayer(layer);
    this.picker.deletePickList(layer.actor);
    layer.actor.setVisibility(false);
    setMesh(layer.polyData, EMPTY_MESH);
    this.spareLayers.push(layer);
  }

  /**
   * Draws each segment at the level for now: coarse while moving or arriving. What is not made yet
   * is made (its buffers then built) at most `budget` of work (or one mesh) a frame, and the next
   * frames, which this asks for, make the rest; until every detailed mesh of a group is made, its
   * coarse layer stands in for them all. Returns the work done and whether some waits for the next frames.
   */
  private showLevel(budget = this.frameTriangles): { work: number; deferred: boolean } {
    const coarseNow = this.coarseShown();
    let work = 0;
    let deferred = false;
    const afford = (cost: number) => {
      if ((work > 0 || budget <= 0) && work + cost > budget) return !(deferred = true);
      work += cost;
      return true;
    };
    for (const [label, groups] of this.segments) {
      const shown = this.styleVisible(label);
      for (const group of groups.values()) {
        if (shown) {
          // With no coarse layer yet, it is made first: it stands in while the detailed ones are made.
          if (!group.coarse && (coarseNow || !allDetailed(group)) && afford(this.coarseCost(group))) this.makeCoarse(label, group);
          if (!coarseNow) {
            for (const piece of group.pieces.values()) {
              if (!piece.detailed && afford(this.layerCost(piece.mesh))) this.makeDetailed(label, piece);
            }
          }
        }
        const detailedNow = !coarseNow && allDetailed(group);
        if (shown && !detailedNow && group.coarseStale && afford(this.coarseCost(group))) this.makeCoarse(label, group);
        const coarseDrawn = !detailedNow && group.coarse !== null;
        for (const piece of group.pieces.values()) piece.detailed?.actor.setVisibility(shown && !coarseDrawn);
        group.coarse?.actor.setVisibility(shown && coarseDrawn);
      }
    }
    if (deferred) this.requestRender();
    return { work, deferred };
  }

  /** Fits the next frames' work to FRAME_WORK_MS at the pace of this frame's. */
  private adaptFrameTriangles(work: number, ms: number): void {
    const fitting = (work * FRAME_WORK_MS) / Math.max(ms, 1);
    this.frameTriangles = Math.round(Math.min(FRAME_TRIANGLES, Math.max(FRAME_TRIANGLES_MIN, fitting)));
  }

  /** A segment's layers: its pieces' detailed ones and its groups' coarse ones. */
  private layers(label: number): MeshLayer[] {
    return [...(this.segments.get(label)?.values() ?? [])]
      .flatMap((group) => [...[...group.pieces.values()].map((piece) => piece.detailed), group.coarse])
      .filter((layer) => layer !== null);
  }

  private removePiece(label: number, chunk: number): void {
    const groups = this.segments.get(label);
    const index = groupIndex(chunk);
    const group = groups?.get(index);
    const piece = group?.pieces.get(chunk);
    if (!groups || !group || !piece) return;
    this.detailedTriangles -= cellCount(piece.mesh);
    if (piece.detailed) this.releaseLayer(piece.detailed);
    group.pieces.delete(chunk);
    group.coarseStale = true;
    if (group.pieces.size > 0) return;
    if (group.coarse) this.releaseLayer(group.coarse);
    groups.delete(index);
    if (groups.size === 0) this.segments.delete(label);
  }

  private deleteLayer(layer: MeshLayer): void {
    this.picker.deletePickList(layer.actor);
    this.renderer.removeActor(layer.actor);
    layer.actor.delete();
    layer.mapper.delete();
    layer.polyData.delete();
  }

  private styleVisible(label: number): boolean {
    const style = this.styles.get(label);
    return !!style?.visible && style.opacity > 0;
  }

  private applyStyle(label: number, actor: vtkActor): void {
    const style = this.styles.get(label);
    if (!style) return;
    const property = actor.getProperty();
    property.setColor(style.color[0] / 255, style.color[1] / 255, style.color[2] / 255);
    property.setOpacity(style.opacity);
  }

  private readonly onPointerDown = (event: PointerEvent) => {
    this.cameraMoved = true;
    this.pressedAt = event.button === 0 ? [event.clientX, event.clientY] : null;
  };

  private readonly onPointerUp = (event: PointerEvent) => {
    const pressedAt = this.pressedAt;
    this.pressedAt = null;
    if (!pressedAt || !this.onPick) return;
    if (Math.hypot(event.clientX - pressedAt[0], event.clientY - pressedAt[1]) > CLICK_SLOP_PX) return;
    const rect = this.container.getBoundingClientRect();
    const world = this.pick(event.clientX - rect.left, event.clientY - rect.top);
    if (world) this.onPick(world);
  };
}

function groupIndex(chunk: number): number {
  return Math.floor(chunk / COARSE_GROUP_CHUNKS);
}

function allDetailed(group: PieceGroup): boolean {
  return [...group.pieces.values()].every((piece) => piece.detailed !== null);
}

const EMPTY_MESH: CellMesh = { positions: new Float32Array(), normals: new Float32Array(), polys: new Uint32Array() };

/** Puts a mesh in a layer's polydata; its mapper rebuilds its buffers when next drawn. */
function setMesh(polyData: vtkPolyData, mesh: CellMesh): void {
  polyData.getPoints().setData(mesh.positions, 3);
  polyData.getPolys().setData(mesh.polys);
  polyData.getPointData().setNormals(vtkDataArray.newInstance({ name: 'Normals', numberOfComponents: 3, values: mesh.normals }));
  polyData.modified();
}
