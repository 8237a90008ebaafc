/**
 * Screen <-> index mapping of one slice view, in "image space": index axes scaled by the
 * spacing, so pixels keep their physical aspect. The vtk camera, the overlay and picking all
 * derive from this one description.
 */
import type { PlaneLayout } from '../core/geometry';
import type { ImageGeometry, Vec3 } from '../core/types';
import type { ViewTransform } from '../core/tools/navigate';

export interface PlaneViewport {
  layout: PlaneLayout;
  /** Canvas size in CSS pixels. */
  width: number;
  height: number;
  /** Millimetres per CSS pixel. */
  mmPerPixel: number;
  /** Plane position (mm, screen-oriented axes: x right, y up) shown at the canvas centre. */
  center: [number, number];
}

/** Leaves a thin margin around a fitted slice. */
const FIT_MARGIN = 1.04;

/** Screen-oriented plane coordinate (mm) of a continuous index along the right or up axis. */
function planeCoordinate(g: ImageGeometry, axis: PlaneLayout['right'], index: number): number {
  return axis.sign * index * g.spacing[axis.indexAxis];
}

export function makePlaneViewport(
  g: ImageGeometry,
  layout: PlaneLayout,
  width: number,
  height: number,
  transform: ViewTransform,
): PlaneViewport {
  const { right, up } = layout;
  const extentX = g.size[right.indexAxis] * g.spacing[right.indexAxis];
  const extentY = g.size[up.indexAxis] * g.spacing[up.indexAxis];
  const fit = Math.max(extentX / Math.max(width, 1), extentY / Math.max(height, 1)) * FIT_MARGIN;
  const middleX = planeCoordinate(g, right, (g.size[right.indexAxis] - 1) / 2);
  const middleY = planeCoordinate(g, up, (g.size[up.indexAxis] - 1) / 2);
  return {
    layout,
    width,
    height,
    mmPerPixel: fit / transform.zoom,
    center: [middleX - transform.pan[0], middleY - transform.pan[1]],
  };
}

/** Canvas position (CSS px from the top-left corner) of a continuous voxel index. */
export function indexToScreen(g: ImageGeometry, vp: PlaneViewport, index: Vec3): [number, number] {
  const x = planeCoordinate(g, vp.layout.right, index[vp.layout.right.indexAxis]);
  const y = planeCoordinate(g, vp.layout.up, index[vp.layout.up.indexAxis]);
  return [vp.width / 2 + (x - vp.center[0]) / vp.mmPerPixel, vp.height / 2 - (y - vp.center[1]) / vp.mmPerPixel];
}

/** Voxel under a canvas position on slice `sliceIndex` of the view's normal axis (may lie outside the image). */
export function screenToIndex(g: ImageGeometry, vp: PlaneViewport, screenX: number, screenY: number, sliceIndex: number): Vec3 {
  const { right, up, normalAxis } = vp.layout;
  const x = vp.center[0] + (screenX - vp.width / 2) * vp.mmPerPixel;
  const y = vp.center[1] - (screenY - vp.height / 2) * vp.mmPerPixel;
  const index: Vec3 = [0, 0, 0];
  index[right.indexAxis] = Math.round((right.sign * x) / g.spacing[right.indexAxis]);
  index[up.indexAxis] = Math.round((up.sign * y) / g.spacing[up.indexAxis]);
  index[normalAxis] = sliceIndex;
  return index;
}

/** The nearest voxel inside the image, for dragging past its edge. */
export function clampIndex(g: ImageGeometry, index: Vec3): Vec3 {
  return index.map((v, axis) => Math.min(g.size[axis] - 1, Math.max(0, v))) as Vec3;
}
