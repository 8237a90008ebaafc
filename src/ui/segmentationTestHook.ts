/**
 * Read-only window.__samSegmentation for end-to-end tests and benchmarks: segment table, voxel
 * counts and a checksum of the labelmap, model state, and where a voxel is drawn in a view (so a
 * test can click on a known voxel through the real UI).
 */
import { planeLayout } from '../core/geometry';
import type { Vec3 } from '../core/types';
import { useAutosaveStore } from '../state/autosave';
import { useInferenceStore } from '../state/inference';
import { memoryReport } from '../services/inference';
import { currentSegmentation } from '../services/segmentation';
import { useViewStore, VIEW_NAMES, type ViewName } from '../state/viewStore';
import { useVolumeStore } from '../state/volumeStore';
import { indexToScreen, makePlaneViewport } from '../viewer/planeViewport';

/** FNV-1a of the labelmap: equal checksums mean (almost surely) equal masks. */
function checksum(labels: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let n = 0; n < labels.length; n++) hash = Math.imul(hash ^ labels[n], 0x01000193);
  return (hash >>> 0).toString(16);
}

const api = {
  get segments() {
    const segmentation = currentSegmentation();
    return (segmentation?.segments ?? []).map((s) => ({
      label: s.label,
      name: s.name,
      color: [...s.color],
      visible: s.visible,
      points: s.points.map((p) => ({ index: [...p.index], positive: p.positive })),
      voxels: segmentation!.voxelCount(s.label),
      volumeMl: segmentation!.volumeMl(s.label),
    }));
  },
  get checksum() {
    const segmentation = currentSegmentation();
    return segmentation ? checksum(segmentation.labels) : null;
  },
  get canUndo() {
    return currentSegmentation()?.canUndo ?? false;
  },
  get inference() {
    const { modelStatus, backend, message, lastClick, lastPreEncode, progress } = useInferenceStore.getState();
    return { modelStatus, backend: backend && { ...backend }, message, lastClick, lastPreEncode, busy: progress !== null };
  },
  /** Bytes the app holds (worker and page), for the benchmark's memory breakdown. */
  memory: memoryReport,
  get autosavedAt() {
    return useAutosaveStore.getState().lastSavedAt;
  },
  /** CSS pixel position of a voxel in a view, relative to the view element's top-left corner. */
  screenPoint(view: string, index: Vec3): [number, number] | null {
    const volume = useVolumeStore.getState().current;
    // The viewport the view draws with (SliceViewPanel), from the view's size and the view store.
    const host = document.querySelector(`[data-testid="canvas-${view}"]`);
    if (!volume || !host || !VIEW_NAMES.includes(view as ViewName)) return null;
    const { width, height } = host.getBoundingClientRect();
    const transform = useViewStore.getState().transforms[view as ViewName];
    const viewport = makePlaneViewport(volume.geometry, planeLayout(volume.geometry, view as ViewName), width, height, transform);
    return indexToScreen(volume.geometry, viewport, index);
  },
};

export type SamSegmentationTestHook = typeof api;

declare global {
  interface Window {
    __samSegmentation?: SamSegmentationTestHook;
  }
}

export function installSegmentationTestHook(): void {
  window.__samSegmentation = api;
}
