/**
 * The navigate tool's algorithms, as plain data in and out: slices, zoom and pan, window/level.
 * The interaction adapter (src/ui/tools/navigate.ts) turns pointer and key events into these.
 */
import { orientationLetters, type PlaneLayout, type ViewPlane } from '../geometry';
import type { ImageGeometry, Vec3 } from '../types';

export interface WindowLevel {
  width: number;
  center: number;
}

/** Zoom and pan of one view; zoom 1 fits the slice, pan is in mm on the screen axes. */
export interface ViewTransform {
  zoom: number;
  pan: [number, number];
}

/**
 * Sign, along the view's normal world axis (LPS), of "next slice": superior (+z) for axial,
 * anterior (-y) for coronal, left (+x) for sagittal.
 */
const FORWARD_SIGN: Record<ViewPlane, 1 | -1> = { axial: 1, coronal: -1, sagittal: 1 };

const ZOOM_LIMITS = [0.25, 40] as const;

/** The crosshair moved `steps` slices forward along the view's normal axis (not clamped to the grid). */
export function stepSlice(g: ImageGeometry, layout: PlaneLayout, crosshair: Vec3, steps: number): Vec3 {
  // planeLayout picks as normal the index axis that lies along the view's world axis.
  const indexSign = orientationLetters(g)[layout.normalAxis].sign * FORWARD_SIGN[layout.plane];
  const next = [...crosshair] as Vec3;
  next[layout.normalAxis] += steps * indexSign;
  return next;
}

function clampZoom(zoom: number): number {
  return Math.min(ZOOM_LIMITS[1], Math.max(ZOOM_LIMITS[0], zoom));
}

/**
 * Zoomed by `factor`, keeping the plane point under (screenX, screenY) in place. `frame`: what the
 * view shows now (a PlaneViewport of src/viewer/planeViewport.ts).
 */
export function zoomAt(
  transform: ViewTransform,
  frame: { width: number; height: number; mmPerPixel: number; center: [number, number] },
  factor: number,
  screenX: number,
  screenY: number,
): ViewTransform {
  const zoom = clampZoom(transform.zoom * factor);
  const dx = screenX - frame.width / 2;
  const dy = frame.height / 2 - screenY;
  const pointX = frame.center[0] + dx * frame.mmPerPixel;
  const pointY = frame.center[1] + dy * frame.mmPerPixel;
  const mmPerPixel = (frame.mmPerPixel * transform.zoom) / zoom;
  // center = middle - pan, so pan = middle - newCenter.
  const middleX = frame.center[0] + transform.pan[0];
  const middleY = frame.center[1] + transform.pan[1];
  return { zoom, pan: [middleX - (pointX - dx * mmPerPixel), middleY - (pointY - dy * mmPerPixel)] };
}

/** `start` dragged by (dx, dy) screen pixels: the plane follows the pointer. */
export function panBy(start: ViewTransform, mmPerPixel: number, dx: number, dy: number): ViewTransform {
  return { zoom: start.zoom, pan: [start.pan[0] + dx * mmPerPixel, start.pan[1] - dy * mmPerPixel] };
}

/** `start` zoomed by a vertical drag of `dy` pixels (up zooms in). */
export function zoomByDrag(start: ViewTransform, dy: number): ViewTransform {
  return { ...start, zoom: clampZoom(start.zoom * Math.exp(-dy / 150)) };
}

/** `start` changed by a drag of (dx, dy) pixels: right widens the window, down raises its centre. */
export function windowByDrag(start: WindowLevel, percentiles: [number, number], dx: number, dy: number): WindowLevel {
  // A drag across the typical intensity span covers about 400 pixels.
  const [low, high] = percentiles;
  const perPixel = Math.max(high - low, 1e-3) / 400;
  return { width: Math.max(perPixel, start.width + dx * perPixel), center: start.center + dy * perPixel };
}
