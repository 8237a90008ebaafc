import { useEffect, useRef } from 'react';
import { useInferenceStore } from '../state/inference';
import { currentSegmentation, useSegmentationStore } from '../state/segmentation';
import { useVolumeStore } from '../state/volumeStore';
import { drawPoints, LabelOverlayPainter } from '../viewer/labelOverlay';
import type { PlaneViewport } from '../viewer/planeViewport';
import { noteViewport } from './segmentationTestHook';

const MASK_OPACITY = 0.45;

/** The labelmap (segment colours) and prompt points of the active segment over one slice view. */
export function SegmentationOverlay({ viewport, sliceIndex }: { viewport: PlaneViewport; sliceIndex: number }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const painter = useRef(new LabelOverlayPainter());
  const volume = useVolumeStore((s) => s.current);
  const version = useSegmentationStore((s) => s.version);
  const segments = useSegmentationStore((s) => s.segments);
  const activeLabel = useSegmentationStore((s) => s.activeLabel);
  const pending = useInferenceStore((s) => s.pendingPoints);

  useEffect(() => {
    const canvas = canvasRef.current;
    const segmentation = currentSegmentation();
    noteViewport(viewport);
    if (!canvas || !volume || !segmentation) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(viewport.width * dpr);
    canvas.height = Math.round(viewport.height * dpr);
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const colors = new Map(segments.filter((s) => s.visible).map((s) => [s.label, [...s.color] as [number, number, number]]));
    // With no visible segment there is nothing to draw: scanning a slice of a fresh labelmap
    // touches its untouched memory (over a second on a 512 x 512 x 300 scan while it opens).
    if (colors.size > 0) {
      painter.current.drawLabels(ctx, segmentation.labels, volume.geometry, viewport, sliceIndex, { colors, opacity: MASK_OPACITY }, dpr);
    }
    const active = segments.find((s) => s.label === activeLabel);
    if (active) {
      const points = pending?.label === active.label ? pending.points : active.points;
      drawPoints(ctx, points, volume.geometry, viewport, sliceIndex, active.color, dpr);
    }
  }, [volume, viewport, sliceIndex, version, segments, activeLabel, pending]);

  return (
    <canvas
      ref={canvasRef}
      className="segmentation-overlay"
      data-testid="segmentation-overlay"
      style={{ position: 'absolute', inset: 0, width: viewport.width, height: viewport.height, pointerEvents: 'none' }}
    />
  );
}
