/**
 * One set of pointer, wheel and key listeners per slice view, dispatching to the active tool
 * (registry.ts). A press the active tool leaves (a button it does not use) goes to navigation;
 * the wheel, slice keys and the voxel readout work the same whatever the tool.
 */
import { useEffect, type RefObject } from 'react';
import { isInside } from '../../core/geometry';
import { useSegmentationStore } from '../../state/segmentation';
import { useViewStore, type ViewName } from '../../state/viewStore';
import { useVolumeStore } from '../../state/volumeStore';
import { screenToIndex, type PlaneViewport } from '../../viewer/planeViewport';
import { navigateTool, readout, sliceKey, wheel } from './navigate';
import { TOOLS } from './registry';
import type { Gesture, ToolPointer, ToolView } from './tool';

export function useViewTools(
  view: ViewName,
  elementRef: RefObject<HTMLElement | null>,
  viewportRef: RefObject<PlaneViewport | null>,
): void {
  useEffect(() => {
    const element = elementRef.current;
    if (!element) return;
    let press: { pointerId: number; button: number; gesture: Gesture } | null = null;

    /** The view as tools see it now (handlers read the stores each time, so they never see stale state). */
    const toolView = (): ToolView | null => {
      const volume = useVolumeStore.getState().current;
      const viewport = viewportRef.current;
      if (!volume || !viewport) return null;
      const voxelAt = (x: number, y: number) => {
        const slice = useViewStore.getState().crosshair[viewport.layout.normalAxis];
        const index = screenToIndex(volume.geometry, viewport, x, y, slice);
        return isInside(volume.geometry.size, index) ? index : null;
      };
      return { view, volume, viewport, voxelAt };
    };
    const pointerOf = (event: MouseEvent, button = event.button): ToolPointer => {
      const box = element.getBoundingClientRect();
      return {
        x: event.clientX - box.left,
        y: event.clientY - box.top,
        button,
        shift: event.shiftKey,
        command: event.ctrlKey || event.metaKey,
      };
    };
    const activeTool = () => TOOLS[useSegmentationStore.getState().tool];

    const onPointerDown = (event: PointerEvent) => {
      element.focus();
      const target = toolView();
      if (!target) return;
      // A press whose release never came (another button pressed meanwhile) ends here.
      press?.gesture.end();
      press = null;
      const pointer = pointerOf(event);
      const gesture = activeTool().press(pointer, target) ?? navigateTool.press(pointer, target);
      if (!gesture) return;
      event.preventDefault();
      press = { pointerId: event.pointerId, button: event.button, gesture };
      element.setPointerCapture(event.pointerId);
    };

    const onPointerMove = (event: PointerEvent) => {
      const target = toolView();
      readout(pointerOf(event), target);
      if (!target) return;
      if (press?.pointerId === event.pointerId) press.gesture.move(pointerOf(event, press.button), target);
      else if (!press) activeTool().hover?.(pointerOf(event), target);
    };

    const onPointerUp = (event: PointerEvent) => {
      if (press?.pointerId !== event.pointerId) return;
      press.gesture.end();
      press = null;
    };

    const onWheel = (event: WheelEvent) => {
      const target = toolView();
      if (!target) return;
      event.preventDefault();
      wheel(pointerOf(event), event.deltaY, target);
    };

    const onKeyDown = (event: KeyboardEvent) => {
      const target = toolView();
      if (target && sliceKey(event.key, target)) event.preventDefault();
    };

    const onLeave = () => readout(null, null);
    const onContextMenu = (event: Event) => event.preventDefault();

    const listeners: [string, EventListener, AddEventListenerOptions?][] = [
      ['pointerdown', onPointerDown as EventListener],
      ['pointermove', onPointerMove as EventListener],
      ['pointerup', onPointerUp as EventListener],
      ['pointercancel', onPointerUp as EventListener],
      ['pointerleave', onLeave],
      ['wheel', onWheel as EventListener, { passive: false }],
      ['keydown', onKeyDown as EventListener],
      ['contextmenu', onContextMenu],
    ];
    for (const [type, listener, options] of listeners) element.addEventListener(type, listener, options);
    return () => {
      press?.gesture.end();
      for (const tool of Object.values(TOOLS)) tool.release?.();
      for (const [type, listener] of listeners) element.removeEventListener(type, listener);
    };
  }, [view, elementRef, viewportRef]);
}
