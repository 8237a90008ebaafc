/**
 * The labelmap of the current volume (a `Segmentation`, the one source of truth for segmentation
 * voxels) and the edits the UI asks for. Each change of the labelmap is mirrored into the
 * segmentation store (src/state/segmentation.ts); src/services/bootstrap.ts decides when a new
 * volume gets a new labelmap.
 */
import type { BrushShape } from '../core/segmentation/brush';
import { Segmentation, type SegmentUpdate } from '../core/segmentation/segmentation';
import type { Segment } from '../core/segmentation/segments';
import type { ImageGeometry, Vec3 } from '../core/types';
import { useSegmentationStore } from '../state/segmentation';

let current: Segmentation | null = null;
const replacedListeners = new Set<(segmentation: Segmentation | null) => void>();

/** The labelmap of the current volume (null before a volume is loaded). */
export function currentSegmentation(): Segmentation | null {
  return current;
}

/** Called with each new Segmentation (a new volume was loaded). */
export function onSegmentationReplaced(listener: (segmentation: Segmentation | null) => void): () => void {
  replacedListeners.add(listener);
  return () => replacedListeners.delete(listener);
}

function publish(segmentation: Segmentation): void {
  const { activeLabel } = useSegmentationStore.getState();
  const segments = segmentation.segments.map((s) => ({ ...s, volumeMl: segmentation.volumeMl(s.label) }));
  useSegmentationStore.setState({
    segments,
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
    // Not while a click runs (its decoder and parts need both cores): its commit or rollback is a
    // change, which schedules the coding again.
    if (segmentation !== current || segmentation.inTransaction) return;
    if (segmentation.compactHistory(COMPACTION_SLICE_MS)) scheduleCompaction(segmentation);
  }, 0);
}

/** Gives the volume `volumeId` a new, empty labelmap (null: no volume). */
export function replaceSegmentation(volume: { id: string; geometry: ImageGeometry } | null): void {
  current = volume ? new Segmentation(volume.geometry) : null;
  useSegmentationStore.setState({ volumeId: volume?.id ?? null, segments: [], activeLabel: null });
  if (current) {
    const segmentation = current;
    segmentation.subscribe((change) => {
      // A click's parts change voxels only (views redraw from the change itself): the table and
      // volumes go to the store at its commit, one render of the panels a click instead of one a part.
      if (!(segmentation.inTransaction && change.box)) publish(segmentation);
      scheduleCompaction(segmentation);
    });
    publish(segmentation);
  }
  replacedListeners.forEach((listener) => listener(current));
}

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

/** Deletes a segment (one undo step); the worker forgets its model state through the change event. */
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
