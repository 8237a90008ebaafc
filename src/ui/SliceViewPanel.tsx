import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { planeLayout, type PlaneLayout } from '../core/geometry';
import { getVolume } from '../state/volumeRegistry';
import { useViewStore, VIEW_NAMES, type ViewName } from '../state/viewStore';
import { useVolumeStore } from '../state/volumeStore';
import { indexToScreen, makePlaneViewport, type PlaneViewport } from '../viewer/planeViewport';
import { SliceRenderer } from '../viewer/SliceRenderer';
import { vtkImageFor } from '../viewer/vtkImage';
import { SegmentationOverlay } from './SegmentationOverlay';
import { useViewTools } from './tools/useViewTools';
import { markFirstRender } from './firstRender';

const EDGES = ['left', 'right', 'top', 'bottom'] as const;

const TITLES: Record<ViewName, string> = { axial: 'Axial', coronal: 'Coronal', sagittal: 'Sagittal' };

/** The view whose slice plane is drawn as a line along index axis `axis` in another view. */
function viewWithNormal(layouts: Record<ViewName, PlaneLayout>, axis: number): ViewName {
  return VIEW_NAMES.find((v) => layouts[v].normalAxis === axis) ?? 'axial';
}

export function SliceViewPanel({ view }: { view: ViewName }) {
  const rootRef = useRef<HTMLDivElement>(null);
  const canvasHostRef = useRef<HTMLDivElement>(null);
  const rendererRef = useRef<SliceRenderer | null>(null);
  const viewportRef = useRef<PlaneViewport | null>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });

  const volume = useVolumeStore((s) => s.current);
  const crosshair = useViewStore((s) => s.crosshair);
  const windowLevel = useViewStore((s) => s.windowLevel);
  const transform = useViewStore((s) => s.transforms[view]);

  const layouts = useMemo(
    () => volume && (Object.fromEntries(VIEW_NAMES.map((v) => [v, planeLayout(volume.geometry, v)])) as Record<ViewName, PlaneLayout>),
    [volume],
  );
  const layout = layouts?.[view] ?? null;
  const viewport = useMemo(
    () => volume && layout && makePlaneViewport(volume.geometry, layout, size.width, size.height, transform),
    [volume, layout, size, transform],
  );
  useLayoutEffect(() => {
    viewportRef.current = viewport;
  }, [viewport]);

  useViewTools(view, rootRef, viewportRef);

  // Bumped when the WebGL context comes back after a loss: the view is rebuilt on a new canvas.
  const [rendererGeneration, setRendererGeneration] = useState(0);
  useEffect(() => {
    const host = canvasHostRef.current;
    if (!host) return;
    const renderer = new SliceRenderer(host, () => setRendererGeneration((n) => n + 1));
    rendererRef.current = renderer;
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      renderer.resize(width, height);
      setSize({ width, height });
    });
    observer.observe(host);
    return () => {
      observer.disconnect();
      renderer.dispose();
      rendererRef.current = null;
    };
  }, [rendererGeneration]);

  const sliceIndex = volume && layout ? crosshair[layout.normalAxis] : 0;
  useEffect(() => {
    const renderer = rendererRef.current;
    if (!renderer) return;
    const voxels = volume && getVolume(volume.id);
    if (!volume || !voxels || !viewport || size.width === 0) {
      renderer.setImage(null);
      renderer.requestRender(null);
      if (size.width > 0) renderer.warmUp();
      return;
    }
    renderer.setImage(vtkImageFor(`${volume.id}@${volume.version}`, voxels));
    renderer.onRendered = () => markFirstRender(view, volume.id);
    renderer.requestRender({ geometry: volume.geometry, viewport, sliceIndex, windowLevel });
  }, [view, volume, viewport, sliceIndex, windowLevel, size, rendererGeneration]);

  let overlay = null;
  if (volume && layouts && layout && viewport && size.width > 0) {
    const [x, y] = indexToScreen(volume.geometry, viewport, crosshair);
    const verticalLineView = viewWithNormal(layouts, layout.right.indexAxis);
    const horizontalLineView = viewWithNormal(layouts, layout.up.indexAxis);
    const count = volume.geometry.size[layout.normalAxis];
    overlay = (
      <>
        <SegmentationOverlay viewport={viewport} sliceIndex={sliceIndex} />
        <svg className="crosshair" width={size.width} height={size.height} aria-hidden="true">
          <line className={`line-${verticalLineView}`} x1={x} y1={0} x2={x} y2={size.height} />
          <line className={`line-${horizontalLineView}`} x1={0} y1={y} x2={size.width} y2={y} />
        </svg>
        {EDGES.map((edge) => (
          <div key={edge} className={`edge-letter ${edge}`} data-testid={`letter-${edge}`}>
            {layout.edgeLetters[edge]}
          </div>
        ))}
        <div className="slice-number" data-testid="slice-number">
          {sliceIndex + 1} / {count}
        </div>
      </>
    );
  }

  return (
    <div ref={rootRef} className={`slice-view view-${view}`} data-testid={`view-${view}`} tabIndex={0} aria-label={`${TITLES[view]} view`}>
      <div ref={canvasHostRef} className="canvas-host" data-testid={`canvas-${view}`} />
      <div className="view-title">{TITLES[view]}</div>
      {overlay}
      {!volume && view === 'axial' && (
        <div className="empty-hint">
          No scan loaded
          <span>Open a file or a DICOM folder, drop one on this window, or press Load demo.</span>
        </div>
      )}
    </div>
  );
}
