/**
 * Mouse and keyboard on a slice view. Left drag: crosshair (ctrl: zoom); middle or shift drag:
 * pan; right drag: window/level; wheel: slices (ctrl: zoom at the pointer); arrows and
 * PageUp/PageDown: slices. Handlers read the stores directly so they never see stale state.
 */
import { useEffect, type RefObject } from 'react';
import { indexToWorld, isInside, orientationLetters, voxelOffset } from '../core/geometry';
import type { Vec3 } from '../core/types';
import { getVolume } from '../state/volumeRegistry';
import { useViewStore, type ViewName, type ViewTransform, type WindowLevel } from '../state/viewStore';
import { useVolumeStore } from '../state/volumeStore';
import { clampIndex, screenToIndex, type PlaneViewport } from '../viewer/planeViewport';

/**
 * Sign, along the view's normal world axis (LPS), of "next slice": superior (+z) for axial,
 * anterior (-y) for coronal, left (+x) for sagittal.
 */
const FORWARD_SIGN: Record<ViewName, 1 | -1> = { axial: 1, coronal: -1, sagittal: 1 };

const ZOOM_LIMITS = [0.25, 40] as const;
const PAGE_STEP = 10;

type DragMode = 'crosshair' | 'pan' | 'zoom' | 'window';

interface Drag {
  mode: DragMode;
  pointerId: number;
  startX: number;
  startY: number;
  startTransform: ViewTransform;
  startWindow: WindowLevel;
}

/** Moves the crosshair `steps` slices forward along the view's normal axis. */
export function stepSlice(view: ViewName, normalAxis: number, steps: number): void {
  const volume = useVolumeStore.getState().current;
  if (!volume) return;
  // planeLayout picks as normal the index axis that lies along the view's world axis.
  const indexSign = orientationLetters(volume.geometry)[normalAxis].sign * FORWARD_SIGN[view];
  const { crosshair, setCrosshair } = useViewStore.getState();
  const next = [...crosshair] as Vec3;
  next[normalAxis] += steps * indexSign;
  setCrosshair(clampIndex(volume.geometry, next));
}

function clampZoom(zoom: number): number {
  return Math.min(ZOOM_LIMITS[1], Math.max(ZOOM_LIMITS[0], zoom));
}

/** Zooms by `factor` keeping the plane point under (screenX, screenY) in place. */
function zoomAt(view: ViewName, vp: PlaneViewport, factor: number, screenX: number, screenY: number): void {
  const { transforms, setTransform } = useViewStore.getState();
  const transform = transforms[view];
  const zoom = clampZoom(transform.zoom * factor);
  const dx = screenX - vp.width / 2;
  const dy = vp.height / 2 - screenY;
  const pointX = vp.center[0] + dx * vp.mmPerPixel;
  const pointY = vp.center[1] + dy * vp.mmPerPixel;
  const mmPerPixel = (vp.mmPerPixel * transform.zoom) / zoom;
  // center = middle - pan, so pan = middle - newCenter.
  const middleX = vp.center[0] + transform.pan[0];
  const middleY = vp.center[1] + transform.pan[1];
  setTransform(view, {
    zoom,
    pan: [middleX - (pointX - dx * mmPerPixel), middleY - (pointY - dy * mmPerPixel)],
  });
}

function localPoint(element: HTMLElement, event: MouseEvent): [number, number] {
  const box = element.getBoundingClientRect();
  return [event.clientX - box.left, event.clientY - box.top];
}

function dragModeOf(event: PointerEvent): DragMode | null {
  if (event.button === 1 || (event.button === 0 && event.shiftKey)) return 'pan';
  if (event.button === 0 && (event.ctrlKey || event.metaKey)) return 'zoom';
  if (event.button === 0) return 'crosshair';
  if (event.button === 2) return 'window';
  return null;
}

export function useSliceInteraction(
  view: ViewName,
  elementRef: RefObject<HTMLElement | null>,
  viewportRef: RefObject<PlaneViewport | null>,
): void {
  useEffect(() => {
    const element = elementRef.current;
    if (!element) return;
    let drag: Drag | null = null;

    const context = () => {
      const volume = useVolumeStore.getState().current;
      const vp = viewportRef.current;
      return volume && vp ? { volume, vp } : null;
    };

    const moveCrosshair = (event: PointerEvent) => {
      const c = context();
      if (!c) return;
      const { crosshair, setCrosshair } = useViewStore.getState();
      const [x, y] = localPoint(element, event);
      const index = screenToIndex(c.volume.geometry, c.vp, x, y, crosshair[c.vp.layout.normalAxis]);
      setCrosshair(clampIndex(c.volume.geometry, index));
    };

    const updateReadout = (event: PointerEvent) => {
      const c = context();
      const voxels = c && getVolume(c.volume.id);
      const { crosshair, setCursor } = useViewStore.getState();
      if (!c || !voxels) return setCursor(null);
      const g = c.volume.geometry;
      const [x, y] = localPoint(element, event);
      const index = screenToIndex(g, c.vp, x, y, crosshair[c.vp.layout.normalAxis]);
      if (!isInside(g.size, index)) return setCursor(null);
      const value = voxels.data[voxelOffset(g.size, ...index)];
      setCursor({ index, world: indexToWorld(g, index), value });
    };

    const onPointerDown = (event: PointerEvent) => {
      element.focus();
      const mode = dragModeOf(event);
      if (!mode || !context()) return;
      event.preventDefault();
      const state = useViewStore.getState();
      drag = {
        mode,
        pointerId: event.pointerId,
        startX: event.clientX,
        startY: event.clientY,
        startTransform: state.transforms[view],
        startWindow: state.windowLevel,
      };
      element.setPointerCapture(event.pointerId);
      if (mode === 'crosshair') moveCrosshair(event);
    };

    const onPointerMove = (event: PointerEvent) => {
      updateReadout(event);
      const c = context();
      if (!drag || event.pointerId !== drag.pointerId || !c) return;
      const dx = event.clientX - drag.startX;
      const dy = event.clientY - drag.startY;
      const state = useViewStore.getState();
      switch (drag.mode) {
        case 'crosshair':
          moveCrosshair(event);
          break;
        case 'pan': {
          const mm = c.vp.mmPerPixel;
          const [panX, panY] = drag.startTransform.pan;
          state.setTransform(view, { zoom: drag.startTransform.zoom, pan: [panX + dx * mm, panY - dy * mm] });
          break;
        }
        case 'zoom': {
          const zoom = clampZoom(drag.startTransform.zoom * Math.exp(-dy / 150));
          state.setTransform(view, { ...drag.startTransform, zoom });
          break;
        }
        case 'window': {
          // A drag across the typical intensity span covers about 400 pixels.
          const [low, high] = c.volume.percentiles;
          const perPixel = Math.max(high - low, 1e-3) / 400;
          const { width, center } = drag.startWindow;
          state.setWindowLevel({ width: Math.max(perPixel, width + dx * perPixel), center: center + dy * perPixel });
          break;
        }
      }
    };

    const onPointerUp = (event: PointerEvent) => {
      if (drag?.pointerId === event.pointerId) drag = null;
    };

    const onWheel = (event: WheelEvent) => {
      const c = context();
      if (!c) return;
      event.preventDefault();
      if (event.ctrlKey || event.metaKey) {
        const [x, y] = localPoint(element, event);
        zoomAt(view, c.vp, Math.exp(-event.deltaY / 500), x, y);
      } else if (event.deltaY !== 0) {
        stepSlice(view, c.vp.layout.normalAxis, event.deltaY < 0 ? 1 : -1);
      }
    };

    const onKeyDown = (event: KeyboardEvent) => {
      const c = context();
      if (!c) return;
      const steps: Record<string, number> = {
        ArrowUp: 1,
        ArrowRight: 1,
        ArrowDown: -1,
        ArrowLeft: -1,
        PageUp: PAGE_STEP,
        PageDown: -PAGE_STEP,
      };
      if (!(event.key in steps)) return;
      event.preventDefault();
      stepSlice(view, c.vp.layout.normalAxis, steps[event.key]);
    };

    const onLeave = () => useViewStore.getState().setCursor(null);
    const onContextMenu = (event: Event) => event.preventDefault();

    element.addEventListener('pointerdown', onPointerDown);
    element.addEventListener('pointermove', onPointerMove);
    element.addEventListener('pointerup', onPointerUp);
    element.addEventListener('pointercancel', onPointerUp);
    element.addEventListener('pointerleave', onLeave);
    element.addEventListener('wheel', onWheel, { passive: false });
    element.addEventListener('keydown', onKeyDown);
    element.addEventListener('contextmenu', onContextMenu);
    return () => {
      element.removeEventListener('pointerdown', onPointerDown);
      element.removeEventListener('pointermove', onPointerMove);
      element.removeEventListener('pointerup', onPointerUp);
      element.removeEventListener('pointercancel', onPointerUp);
      element.removeEventListener('pointerleave', onLeave);
      element.removeEventListener('wheel', onWheel);
      element.removeEventListener('keydown', onKeyDown);
      element.removeEventListener('contextmenu', onContextMenu);
    };
  }, [view, elementRef, viewportRef]);
}
