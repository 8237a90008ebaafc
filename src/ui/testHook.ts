/**
 * Read-only window.__samApp for end-to-end tests and benchmarks: they act through the real UI
 * and only read state back here. Installed only in a test build (src/main.tsx), with
 * window.__samSegmentation (segmentationTestHook.ts); nothing in the app calls into them.
 */
import { planeLayout } from '../core/geometry';
import { useViewStore, VIEW_NAMES, type ViewName } from '../state/viewStore';
import { useVolumeStore } from '../state/volumeStore';
import { FIRST_RENDER_MARK, type FirstRenderDetail } from './firstRender';
import { installSegmentationTestHook } from './segmentationTestHook';

const api = {
  get volume() {
    const v = useVolumeStore.getState().current;
    return v && { id: v.id, name: v.name, modality: v.modality, dataType: v.dataType, range: v.range, ...v.geometry };
  },
  get crosshair() {
    return [...useViewStore.getState().crosshair];
  },
  /** Index along each view's normal axis. */
  get slices() {
    const v = useVolumeStore.getState().current;
    if (!v) return null;
    const crosshair = useViewStore.getState().crosshair;
    return Object.fromEntries(VIEW_NAMES.map((view) => [view, crosshair[planeLayout(v.geometry, view).normalAxis]]));
  },
  get windowLevel() {
    return { ...useViewStore.getState().windowLevel };
  },
  /** First-render times (performance.now()) of the current volume per view. */
  get firstRenders(): Partial<Record<ViewName, number>> {
    const v = useVolumeStore.getState().current;
    const marks = performance.getEntriesByName(FIRST_RENDER_MARK) as PerformanceMark[];
    const detail = (mark: PerformanceMark) => mark.detail as FirstRenderDetail;
    return Object.fromEntries(marks.filter((m) => detail(m).volumeId === v?.id).map((m) => [detail(m).view, m.startTime]));
  },
};

export type SamAppTestHook = typeof api;

declare global {
  interface Window {
    __samApp?: SamAppTestHook;
  }
}

export function installTestHooks(): void {
  window.__samApp = api;
  installSegmentationTestHook();
}
