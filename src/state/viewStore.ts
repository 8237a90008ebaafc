import { create } from 'zustand';
import type { ViewTransform, WindowLevel } from '../core/tools/navigate';
import type { Vec3 } from '../core/types';

export const VIEW_NAMES = ['axial', 'coronal', 'sagittal'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

/** What lies under the mouse pointer, for the status-bar readout. */
export interface CursorReadout {
  index: Vec3;
  world: Vec3;
  value: number;
}

const FIT: ViewTransform = { zoom: 1, pan: [0, 0] };
const fittedViews = (): Record<ViewName, ViewTransform> => ({ axial: FIT, coronal: FIT, sagittal: FIT });

interface ViewState {
  /** Voxel index (i, j, k) the three views are linked to. */
  crosshair: Vec3;
  windowLevel: WindowLevel;
  /** Name of the last preset applied, or null after a manual drag. */
  windowPreset: string | null;
  transforms: Record<ViewName, ViewTransform>;
  cursor: CursorReadout | null;
  setCrosshair: (index: Vec3) => void;
  setWindowLevel: (windowLevel: WindowLevel, preset?: string | null) => void;
  setTransform: (view: ViewName, transform: ViewTransform) => void;
  resetTransforms: () => void;
  setCursor: (cursor: CursorReadout | null) => void;
  /** Fresh view state for a newly loaded volume. */
  resetForVolume: (crosshair: Vec3, windowLevel: WindowLevel, preset: string | null) => void;
}

export const useViewStore = create<ViewState>()((set) => ({
  crosshair: [0, 0, 0],
  windowLevel: { width: 400, center: 40 },
  windowPreset: null,
  transforms: fittedViews(),
  cursor: null,
  setCrosshair: (crosshair) => set({ crosshair }),
  setWindowLevel: (windowLevel, windowPreset = null) => set({ windowLevel, windowPreset }),
  setTransform: (view, transform) => set((s) => ({ transforms: { ...s.transforms, [view]: transform } })),
  resetTransforms: () => set({ transforms: fittedViews() }),
  setCursor: (cursor) => set({ cursor }),
  resetForVolume: (crosshair, windowLevel, windowPreset) =>
    set({ crosshair, windowLevel, windowPreset, transforms: fittedViews(), cursor: null }),
}));
