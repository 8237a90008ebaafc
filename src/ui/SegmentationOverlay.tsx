import { useCallback, useEffect, useMemo, useRef } from 'react';
import type { Rgb } from '../core/segmentation/segments';
import { currentSegmentation } from '../services/segmentation';
import { useInferenceStore } from '../state/inference';
import { useSegmentationStore } from '../state/segmentation';
import { useVolumeStore } from '../state/volumeStore';
import { changeTouchesSlice, drawPoints, LabelOverlayPainter } from '../viewer/labelOverlay';
import type { PlaneViewport } from '../viewer/planeViewport';
import { cancelDraw, requestDraw } from '../viewer/sharedFrames';

const MASK_OPACITY = 0.45;

/**
 * The labelmap (segment colours) and prompt points of the active segment over one slice view, on
 * two canvases: a click changes the points at once and the labels later, each redrawn alone.
 */
export function SegmentationOverlay({ viewport, sliceIndex }: { viewport: PlaneViewport; sliceIndex: number }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const pointsRef = useRef<HTMLCanvasElement>(null);
  const painter = useRef(new LabelOverlayPainter());
  const volume = useVolumeStore((s) => s.current);
  const labelmapOf = useSegmentationStore((s) => s.volumeId);
  const segments = useSegmentationStore((s) => s.segments);
  const activeLabel = useSegmentationStore((s) => s.activeLabel);
  const pending = useInferenceStore((s) => s.pendingPoints);
  const normalAxis = viewport.layout.normalAxis;

  // What this view shows of the table: colours and opacities of visible segments (volumes changing does not redraw it).
  const colorKey = JSON.stringify(segments.filter((s) => s.visible).map((s) => [s.label, { rgb: s.color, opacity: s.opacity ?? 1 }]));
  const colors = useMemo(() => new Map(JSON.parse(colorKey) as [number, { rgb: Rgb; opacity: number }][]), [colorKey]);
  const active = segments.find((s) => s.label === activeLabel);
  const points = active && (pending?.label === active.label ? pending.points : active.points);
  const ringColor = active?.color;

  const drawLabels = useCallback(() => {
    const ctx = clearedContext(canvasRef.current, viewport);
    const segmentation = currentSegmentation();
    if (!ctx || !volume || !segmentation) return;
    // With no visible segment there is nothing to draw.
    if (colors.size > 0) {
      const dpr = window.devicePixelRatio || 1;
      const painted = painter.current.drawLabels(
        ctx,
        segmentation.labels,
        segmentation.nonZeroBox,
        volume.geometry,
        viewport,
        sliceIndex,
        { colors, opacity: MASK_OPACITY },
        dpr,
      );
      if (painted) unallocated.delete(ctx.canvas);
    }
  }, [volume, viewport, sliceIndex, colors]);
  useEffect(drawLabels, [drawLabels]);

  // Redrawn when a change of the labelmap touches this view's slice (the labelmap says where it
  // changed), once per frame however many changes came since: a click writes its mask in slabs.
  useEffect(() => {
    const draw = () => drawLabels();
    const unsubscribe = currentSegmentation()?.subscribe((change) => {
      if (changeTouchesSlice(change.box, normalAxis, sliceIndex)) requestDraw(draw);
    });
    return () => {
      unsubscribe?.();
      cancelDraw(draw);
    };
  }, [labelmapOf, normalAxis, sliceIndex, drawLabels]);

  useEffect(() => {
    const ctx = clearedContext(pointsRef.current, viewport);
    if (!ctx || !volume || !points || !ringColor) return;
    drawPoints(ctx, points, volume.geometry, viewport, sliceIndex, ringColor, window.devicePixelRatio || 1);
    unallocated.delete(ctx.canvas);
  }, [volume, viewport, sliceIndex, points, ringColor]);

  const style = { position: 'absolute', inset: 0, width: viewport.width, height: viewport.height, pointerEvents: 'none' } as const;
  return (
    <>
      <canvas ref={canvasRef} className="segmentation-overlay" data-testid="segmentation-overlay" style={style} />
      <canvas ref={pointsRef} className="segmentation-overlay" data-testid="point-overlay" style={style} />
    </>
  );
}

/** Overlay canvases resized and not drawn on since: their pixels are not allocated yet. */
const unallocated = new WeakSet<HTMLCanvasElement>();

/**
 * The canvas sized to the viewport at device resolution and cleared, or null before it exists.
 * Resizing clears it already; a clearRect on a canvas that was never drawn would allocate its
 * pixels for nothing (tens of ms for the six overlays when a scan opens). Its first draw after a
 * resize allocates them then, which after a layout change fell in the next click (bench:3d: long
 * tasks in clicks after the 3D view was shown again); so a resized canvas not drawn on meanwhile
 * is allocated at an idle moment.
 */
function clearedContext(canvas: HTMLCanvasElement | null, viewport: PlaneViewport): CanvasRenderingContext2D | null {
  if (!canvas) return null;
  const dpr = window.devicePixelRatio || 1;
  const [width, height] = [Math.round(viewport.width * dpr), Math.round(viewport.height * dpr)];
  const ctx = canvas.getContext('2d')!;
  if (canvas.width !== width || canvas.height !== height) {
    [canvas.width, canvas.height] = [width, height];
    unallocated.add(canvas);
    whenIdle(() => {
      // Clearing a blank canvas changes no pixel: it only allocates them.
      if (unallocated.delete(canvas)) ctx.clearRect(0, 0, canvas.width, canvas.height);
    });
  } else {
    ctx.clearRect(0, 0, width, height);
    unallocated.delete(canvas);
  }
  return ctx;
}

/** Runs `task` when the page is idle (Safari has no requestIdleCallback: a moment later there). */
function whenIdle(task: () => void): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(task);
  else setTimeout(task, 100);
}
