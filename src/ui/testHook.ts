/**
 * Read-only window.__samApp for end-to-end tests and benchmarks: they act through the real UI
 * and only read state back here.
 */
import { planeLayout } from '../core/geometry';
import { useViewStore, VIEW_NAMES, type ViewName } from '../state/viewStore';
import { useVolumeStore } from '../state/volumeStore';

/** performance.now() of the first frame each view drew for each volume id. */
const firstRenders = new Map<string, Partial<Record<ViewName, number>>>();

export function noteRendered(view: ViewName, volumeId: string): void {
  const entry = firstRenders.get(volumeId) ?? {};
  if (entry[view] === undefined) entry[view] = performance.now();
  firstRenders.set(volumeId, entry);
}

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
  get firstRenders() {
    const v = useVolumeStore.getState().current;
    return v ? { ...firstRenders.get(v.id) } : {};
  },
};

export type SamAppTestHook = typeof api;

declare global {
  interface Window {
    __samApp?: SamAppTestHook;
  }
}

export function installTestHook(): void {
  window.__samApp = api;
}
