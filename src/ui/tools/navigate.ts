/**
 * The navigate tool, and the navigation every tool leaves to it: left drag moves the crosshair
 * (Ctrl: zoom), middle or Shift drag pans, right drag sets window/level; the wheel steps slices
 * (Ctrl: zooms at the pointer), as do the arrows and PageUp/PageDown. The math: core/tools/navigate.ts.
 */
import { indexToWorld, isInside, voxelOffset } from '../../core/geometry';
import { panBy, stepSlice, windowByDrag, zoomAt, zoomByDrag } from '../../core/tools/navigate';
import { getVolume } from '../../state/volumeRegistry';
import { useViewStore } from '../../state/viewStore';
import { clampIndex, screenToIndex } from '../../viewer/planeViewport';
import type { Gesture, ToolPointer, ToolView, ViewTool } from './tool';

const PAGE_STEP = 10;
const KEY_STEPS: Record<string, number> = {
  ArrowUp: 1,
  ArrowRight: 1,
  ArrowDown: -1,
  ArrowLeft: -1,
  PageUp: PAGE_STEP,
  PageDown: -PAGE_STEP,
};

function moveCrosshair(pointer: ToolPointer, { volume, viewport }: ToolView): void {
  const { crosshair, setCrosshair } = useViewStore.getState();
  const index = screenToIndex(volume.geometry, viewport, pointer.x, pointer.y, crosshair[viewport.layout.normalAxis]);
  setCrosshair(clampIndex(volume.geometry, index));
}

/** A drag that changes the view from where it was at the press, by how far the pointer went. */
function drag(start: ToolPointer, change: (dx: number, dy: number) => void): Gesture {
  return { move: (pointer) => change(pointer.x - start.x, pointer.y - start.y), end: () => undefined };
}

export const navigateTool: ViewTool = {
  title: 'Navigate',
  hint: 'Click moves the crosshair',
  press(pointer, view) {
    const state = useViewStore.getState();
    const transform = state.transforms[view.view];
    if (pointer.button === 1 || (pointer.button === 0 && pointer.shift)) {
      return drag(pointer, (dx, dy) => state.setTransform(view.view, panBy(transform, view.viewport.mmPerPixel, dx, dy)));
    }
    if (pointer.button === 0 && pointer.command) return drag(pointer, (_, dy) => state.setTransform(view.view, zoomByDrag(transform, dy)));
    if (pointer.button === 0) {
      moveCrosshair(pointer, view);
      return { move: moveCrosshair, end: () => undefined };
    }
    if (pointer.button === 2) {
      const start = state.windowLevel;
      return drag(pointer, (dx, dy) => state.setWindowLevel(windowByDrag(start, view.volume.percentiles, dx, dy)));
    }
    return null;
  },
};

/** The wheel, whatever the tool: slices, or zoom at the pointer with Ctrl. */
export function wheel(pointer: ToolPointer, deltaY: number, { view, volume, viewport }: ToolView): void {
  const state = useViewStore.getState();
  if (pointer.command) state.setTransform(view, zoomAt(state.transforms[view], viewport, Math.exp(-deltaY / 500), pointer.x, pointer.y));
  else if (deltaY !== 0) step(deltaY < 0 ? 1 : -1, volume, viewport);
}

/** Slice keys, whatever the tool; false for other keys. */
export function sliceKey(key: string, { volume, viewport }: ToolView): boolean {
  if (!(key in KEY_STEPS)) return false;
  step(KEY_STEPS[key], volume, viewport);
  return true;
}

function step(steps: number, volume: ToolView['volume'], viewport: ToolView['viewport']): void {
  const { crosshair, setCrosshair } = useViewStore.getState();
  setCrosshair(clampIndex(volume.geometry, stepSlice(volume.geometry, viewport.layout, crosshair, steps)));
}

/** The status bar's readout of the voxel under the pointer (null: none), whatever the tool. */
export function readout(pointer: ToolPointer | null, view: ToolView | null): void {
  const { crosshair, setCursor } = useViewStore.getState();
  const voxels = view && getVolume(view.volume.id);
  if (!pointer || !view || !voxels) return setCursor(null);
  const g = view.volume.geometry;
  const index = screenToIndex(g, view.viewport, pointer.x, pointer.y, crosshair[view.viewport.layout.normalAxis]);
  if (!isInside(g.size, index)) return setCursor(null);
  setCursor({ index, world: indexToWorld(g, index), value: voxels.data[voxelOffset(g.size, ...index)] });
}
