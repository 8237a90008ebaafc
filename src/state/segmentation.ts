/**
 * The segmentation of the current volume: the labelmap and its history live in a `Segmentation`
 * object outside reactive state; the store mirrors what the UI shows (segment table, volumes,
 * undo/redo availability, tool) and a version counter that views watch to redraw overlays.
 */
import { create } from 'zustand';
import type { BrushShape } from '../core/segmentation/brush';
import { Segmentation, type SegmentUpdate } from '../core/segmentation/segmentation';
import type { Segment } from '../core/segmentation/segments';
import type { Vec3 } from '../core/types';
import { useVolumeStore } from './volumeStore';

export type SegmentationTool = 'navigate' | 'segment' | 'brush' | 'eraser';

export interface SegmentRow extends Segment {
  volumeMl: number;
}

interface SegmentationState {
  /** Volume id the segmentation belongs to (null: no volume). */
  volumeId: string | null;
  segments: SegmentRow[];
  activeLabel: number | null;
  /** Bumped on every labelmap or table change. */
  version: number;
  canUndo: boolean;
  canRedo: boolean;
  tool: SegmentationTool;
  brushRadiusMm: number;
  brushShape: 'disc' | 'sphere';
  setTool: (tool: SegmentationTool) => void;
  setBrush: (brush: { radiusMm?: number; shape?: 'disc' | 'sphere' }) => void;
  setActiveLabel: (label: number | null) => void;
}

export const useSegmentationStore = create<SegmentationState>()((set) => ({
  volumeId: null,
  segments: [],
  activeLabel: null,
  version: 0,
  canUndo: false,
  canRedo: false,
  tool: 'segment',
  brushRadiusMm: 5,
  brushShape: 'disc',
  setTool: (tool) => set({ tool }),
  setBrush: ({ radiusMm, shape }) =>
    set((s) => ({ brushRadiusMm: radiusMm ?? s.brushRadiusMm, brushShape: shape ?? s.brushShape })),
  setActiveLabel: (activeLabel) => set({ activeLabel }),
}));

let current: Segmentation | null = null;
const volumeListeners = new Set<(segmentation: Segmentation | null) => void>();

/** The labelmap of the current volume (null before a volume is loaded). */
export function currentSegmentation(): Segmentation | null {
  return current;
}

/** Called with each new Segmentation (a new volume was loaded). */
export function onSegmentationReplaced(listener: (segmentation: Segmentation | null) => void): () => void {
  volumeListeners.add(listener);
  return () => volumeListeners.delete(listener);
}

function publish(segmentation: Segmentation): void {
  const { activeLabel } = useSegmentationStore.getState();
  const segments = segmentation.segments.map((s) => ({ ...s, volumeMl: segmentation.volumeMl(s.label) }));
  useSegmentationStore.setState({
    segments,
    version: segmentation.version,
    canUndo: segmentation.canUndo,
    canRedo: segmentation.canRedo,
    activeLabel: segments.some((s) => s.label === activeLabel) ? activeLabel : (segments.at(-1)?.label ?? null),
  });
}

/** Milliseconds of undo-data coding per main-thread task: short enough not to hold up input or frames. */
const COMPACTION_SLICE_MS = 8;
let compactionTimer: ReturnType<typeof setTimeout> | null = null;

/** Codes the history's raw undo data in short tasks after a change, until none is left. */
function scheduleCompaction(segmentation: Segmentation): void {
  if (compactionTimer !== null || !segmentation.historyNeedsCompaction) return;
  compactionTimer = setTimeout(() => {
    compactionTimer = null;
    if (segmentation === current && segmentation.compactHistory(COMPACTION_SLICE_MS)) scheduleCompaction(segmentation);
  }, 0);
}

function attach(volumeId: string | null): void {
  const volume = useVolumeStore.getState().current;
  current = volume && volume.id === volumeId ? new Segmentation(volume.geometry) : null;
  useSegmentationStore.setState({ volumeId: current ? volumeId : null, segments: [], activeLabel: null, version: 0 });
  if (current) {
    const segmentation = current;
    segmentation.subscribe(() => {
      publish(segmentation);
      scheduleCompaction(segmentation);
    });
    publish(segmentation);
  }
  volumeListeners.forEach((listener) => listener(current));
}

useVolumeStore.subscribe((state, previous) => {
  if (state.current?.id !== previous.current?.id) attach(state.current?.id ?? null);
});

function requireSegmentation(): Segmentation {
  if (!current) throw new Error('Open a scan first.');
  return current;
}

export function addSegment(name?: string): Segment {
  const segment = requireSegmentation().addSegment({ name });
  useSegmentationStore.setState({ activeLabel: segment.label });
  return segment;
}

/** The active segment, created when there is none (a first click needs somewhere to go). */
export function activeSegment(): Segment {
  const segmentation = requireSegmentation();
  const label = useSegmentationStore.getState().activeLabel;
  return (label !== null && segmentation.segment(label)) || addSegment();
}

export function updateSegment(label: number, update: SegmentUpdate): void {
  requireSegmentation().updateSegment(label, update);
}

export function deleteSegment(label: number): void {
  requireSegmentation().deleteSegment(label);
}

export function undo(): void {
  current?.undo();
}

export function redo(): void {
  current?.redo();
}

/** Brush or eraser strokes from a view: begin, dabs at voxel indices, end. */
export function beginBrushStroke(): boolean {
  const { tool } = useSegmentationStore.getState();
  if (!current || (tool !== 'brush' && tool !== 'eraser')) return false;
  current.beginStroke(activeSegment().label, tool === 'eraser');
  return true;
}

export function brushDab(center: Vec3, normalAxis: 0 | 1 | 2): void {
  const { brushRadiusMm, brushShape } = useSegmentationStore.getState();
  const shape: BrushShape = brushShape === 'sphere' ? { kind: 'sphere' } : { kind: 'disc', normalAxis };
  current?.dab({ center, radiusMm: brushRadiusMm, shape });
}

export function endBrushStroke(): void {
  current?.endStroke();
}
