/**
 * Segmentation tools on a slice view, ahead of the view's own navigation handlers (capture phase):
 * segment tool: click = positive point, Shift+click or right click = negative point;
 * brush / eraser: left drag paints or erases on the active segment. Resting the pointer with the
 * segment tool pre-encodes the patch under it. Other buttons and the navigate tool fall through.
 */
import { useEffect, type RefObject } from 'react';
import { isInside } from '../core/geometry';
import type { Vec3 } from '../core/types';
import { addPoint, preEncode } from '../services/inference';
import { beginBrushStroke, brushDab, endBrushStroke } from '../services/segmentation';
import { useSegmentationStore } from '../state/segmentation';
import { useViewStore, type ViewName } from '../state/viewStore';
import { useVolumeStore } from '../state/volumeStore';
import { screenToIndex, type PlaneViewport } from '../viewer/planeViewport';

const PRE_ENCODE_DELAY_MS = 400;

export function useSegmentationInteraction(
  view: ViewName,
  elementRef: RefObject<HTMLElement | null>,
  viewportRef: RefObject<PlaneViewport | null>,
): void {
  useEffect(() => {
    const element = elementRef.current;
    if (!element) return;
    let stroke: { pointerId: number; last: Vec3 } | null = null;
    let restTimer = 0;

    /** The voxel under the pointer on the view's current slice, or null outside the image. */
    const voxelAt = (event: PointerEvent): Vec3 | null => {
      const volume = useVolumeStore.getState().current;
      const vp = viewportRef.current;
      if (!volume || !vp) return null;
      const box = element.getBoundingClientRect();
      const slice = useViewStore.getState().crosshair[vp.layout.normalAxis];
      const index = screenToIndex(volume.geometry, vp, event.clientX - box.left, event.clientY - box.top, slice);
      return isInside(volume.geometry.size, index) ? index : null;
    };

    const consume = (event: Event) => {
      event.preventDefault();
      event.stopImmediatePropagation();
    };

    /** Dabs along the segment from the last position, about one voxel apart, so fast drags leave no gaps. */
    const dabTo = (index: Vec3, normalAxis: 0 | 1 | 2) => {
      const from = stroke!.last;
      const steps = Math.max(1, ...index.map((v, a) => Math.abs(v - from[a])));
      for (let s = 1; s <= steps; s++) {
        brushDab(index.map((v, a) => from[a] + ((v - from[a]) * s) / steps) as Vec3, normalAxis);
      }
      stroke!.last = index;
    };

    const onPointerDown = (event: PointerEvent) => {
      const { tool } = useSegmentationStore.getState();
      if (tool === 'navigate' || event.ctrlKey || event.metaKey) return;
      const index = voxelAt(event);
      if (!index) return;
      if (tool === 'segment' && (event.button === 0 || event.button === 2)) {
        consume(event);
        element.focus();
        void addPoint(index, event.button === 0 && !event.shiftKey);
      } else if ((tool === 'brush' || tool === 'eraser') && event.button === 0) {
        consume(event);
        element.focus();
        if (!beginBrushStroke()) return;
        const normalAxis = viewportRef.current!.layout.normalAxis;
        stroke = { pointerId: event.pointerId, last: index };
        brushDab(index, normalAxis);
        element.setPointerCapture(event.pointerId);
      }
    };

    const onPointerMove = (event: PointerEvent) => {
      if (stroke && event.pointerId === stroke.pointerId) {
        const index = voxelAt(event);
        if (index) dabTo(index, viewportRef.current!.layout.normalAxis);
        consume(event);
        return;
      }
      if (useSegmentationStore.getState().tool !== 'segment') return;
      window.clearTimeout(restTimer);
      const index = voxelAt(event);
      if (index) restTimer = window.setTimeout(() => preEncode(index), PRE_ENCODE_DELAY_MS);
    };

    const onPointerUp = (event: PointerEvent) => {
      if (!stroke || event.pointerId !== stroke.pointerId) return;
      stroke = null;
      endBrushStroke();
      consume(event);
    };

    const options = { capture: true };
    element.addEventListener('pointerdown', onPointerDown, options);
    element.addEventListener('pointermove', onPointerMove, options);
    element.addEventListener('pointerup', onPointerUp, options);
    element.addEventListener('pointercancel', onPointerUp, options);
    return () => {
      window.clearTimeout(restTimer);
      if (stroke) endBrushStroke();
      element.removeEventListener('pointerdown', onPointerDown, options);
      element.removeEventListener('pointermove', onPointerMove, options);
      element.removeEventListener('pointerup', onPointerUp, options);
      element.removeEventListener('pointercancel', onPointerUp, options);
    };
  }, [view, elementRef, viewportRef]);
}
