import { useEffect, useRef, useState } from 'react';
import { meshToObj, meshToStl, type MeshCoordinates } from '../core/export/mesh-files';
import { cellCount } from '../core/surface/cell-mesh';
import { indexToWorld, worldToIndex } from '../core/geometry';
import type { ImageGeometry, Vec3 } from '../core/types';
import { useInferenceStore } from '../state/inference';
import { useSegmentationStore } from '../state/segmentation';
import { baseName, save } from '../services/segmentationFiles';
import { useViewStore } from '../state/viewStore';
import { useVolumeStore } from '../state/volumeStore';
import { VOLUME_PRESETS, type VolumePreset } from '../viewer/3d/scanLayer';
import { DETAILED_TRIANGLES_MAX, SurfaceView, type Bounds, type StandardView } from '../viewer/3d/SurfaceView';
import { vtkImageFor } from '../viewer/vtkImage';
import { getVolume } from '../state/volumeRegistry';
import { SurfaceFeed } from './surfaceFeed';

/**
 * Made when the app loads: the page's first number formatter loads ICU's data (40-100 ms here), a
 * long task when the first simplified surface of a click came with it.
 */
const triangleCount = new Intl.NumberFormat();

/**
 * Test builds measure the 3D view's main-thread work ('sam:3d-work': its frames, and surfaces
 * arriving), so that bench:3d can tell how much of a long task was the view's.
 */
const measureWork = import.meta.env.MODE === 'test' ? (start: number) => performance.measure('sam:3d-work', { start }) : null;

const STANDARD_VIEWS: { view: StandardView; title: string }[] = [
  { view: 'A', title: 'Anterior' },
  { view: 'P', title: 'Posterior' },
  { view: 'L', title: 'Left' },
  { view: 'R', title: 'Right' },
  { view: 'S', title: 'Superior' },
  { view: 'I', title: 'Inferior' },
];

/** World bounds [xmin, xmax, ymin, ymax, zmin, zmax] of the image's voxel centres. */
function worldBounds(geometry: ImageGeometry): Bounds {
  const bounds: Bounds = [Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity];
  for (let corner = 0; corner < 8; corner++) {
    const index = [0, 1, 2].map((a) => (corner & (1 << a) ? geometry.size[a] - 1 : 0)) as Vec3;
    indexToWorld(geometry, index).forEach((x, a) => {
      bounds[2 * a] = Math.min(bounds[2 * a], x);
      bounds[2 * a + 1] = Math.max(bounds[2 * a + 1], x);
    });
  }
  return bounds;
}

/** The voxel nearest a world point, inside the image. */
function nearestVoxel(geometry: ImageGeometry, world: Vec3): Vec3 {
  return worldToIndex(geometry, world).map((v, a) => Math.min(geometry.size[a] - 1, Math.max(0, Math.round(v)))) as Vec3;
}

/** Fetches the bytes of a data URL (the screenshot). */
async function dataUrlBytes(url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

/**
 * The 3D view: segment surfaces fed by the labelmap's changes (through SurfaceFeed), camera
 * controls, picking (a click on a surface moves the crosshair there), screenshot and mesh export.
 * `active` is false while the view is hidden: it then neither draws nor meshes.
 */
export function View3DPanel({ active }: { active: boolean }) {
  const canvasHostRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<SurfaceView | null>(null);
  const feedRef = useRef<SurfaceFeed | null>(null);
  /** Triangles per label now shown (and before simplification for display), for the readout and the tests. */
  const [triangles, setTriangles] = useState<ReadonlyMap<number, { shown: number; full: number }>>(new Map());
  const [coordinates, setCoordinates] = useState<MeshCoordinates>('LPS');
  const [exportLabel, setExportLabel] = useState<number | null>(null);
  const [picked, setPicked] = useState<Vec3 | null>(null);
  const [volumePreset, setVolumePreset] = useState<VolumePreset | null>(null);
  const [planesShown, setPlanesShown] = useState(false);
  const crosshair = useViewStore((s) => s.crosshair);
  const windowLevel = useViewStore((s) => s.windowLevel);

  const volume = useVolumeStore((s) => s.current);
  const segments = useSegmentationStore((s) => s.segments);
  const activeLabel = useSegmentationStore((s) => s.activeLabel);
  // A click whose mask is still being computed: its next parts are coming.
  const clickRunning = useInferenceStore((s) => s.pendingPoints !== null);

  // Bumped when the WebGL context comes back after a loss: the view is rebuilt on a new canvas.
  const [viewGeneration, setViewGeneration] = useState(0);
  useEffect(() => {
    const host = canvasHostRef.current;
    if (!host) return;
    const view = new SurfaceView(host, () => setViewGeneration((n) => n + 1));
    viewRef.current = view;
    const observer = new ResizeObserver(([entry]) => view.resize(entry.contentRect.width, entry.contentRect.height));
    observer.observe(host);
    return () => {
      observer.disconnect();
      view.dispose();
      viewRef.current = null;
    };
  }, [viewGeneration]);

  // A rebuilt view gets a new feed too, which meshes the labelmap afresh.
  useEffect(() => {
    // Oldest change not yet on screen: the frame that shows it closes the 'surface-update' measure.
    let pendingSince: number | null = null;
    /** Triangles of the detailed and coarse meshes and before simplification, per label and chunk. */
    const shown = new Map<number, Map<number, { detailed: number; coarse: number; full: number }>>();
    const publish = () => {
      const sums = [...shown].map(([label, chunks]) => {
        const sum = (key: 'detailed' | 'coarse' | 'full') => [...chunks.values()].reduce((n, c) => n + c[key], 0);
        return { label, detailed: sum('detailed'), coarse: sum('coarse'), full: sum('full') };
      });
      // What a still view draws: the detailed meshes unless there are too many (see SurfaceView).
      const detailed = sums.reduce((n, s) => n + s.detailed, 0) <= DETAILED_TRIANGLES_MAX;
      setTriangles(new Map(sums.map((s) => [s.label, { shown: detailed ? s.detailed : s.coarse, full: s.full }])));
    };
    const feed = new SurfaceFeed({
      chunks(chunks, changedAt) {
        // For the benchmark: when surfaces arrive, against when the frame shows them.
        const arrivedAt = performance.mark('sam:surface-chunks').startTime;
        for (const { label, chunk, surface, coarse, fullTriangles } of chunks) {
          viewRef.current?.setChunk(label, chunk, surface, coarse);
          if (!shown.has(label)) shown.set(label, new Map());
          const triangles = {
            detailed: cellCount(surface),
            coarse: cellCount(coarse ?? surface),
            full: fullTriangles,
          };
          if (surface.polys.length > 0) shown.get(label)!.set(chunk, triangles);
          else shown.get(label)!.delete(chunk);
          if (shown.get(label)!.size === 0) shown.delete(label);
        }
        pendingSince = Math.min(pendingSince ?? Infinity, changedAt);
        publish();
        measureWork?.(arrivedAt);
      },
      clear() {
        viewRef.current?.clearSurfaces();
        shown.clear();
        publish();
      },
    });
    feedRef.current = feed;
    const view = viewRef.current;
    if (view) {
      view.onFrameWork = measureWork;
      view.onRendered = () => {
        // For the benchmark: frames shown (drawn offscreen, they can be fewer than the page's).
        performance.mark('sam:3d-frame');
        if (pendingSince === null || view.hasPendingSurfaces()) return;
        performance.measure('surface-update', { start: pendingSince, end: performance.now() });
        pendingSince = null;
      };
    }
    return () => {
      feed.dispose();
      feedRef.current = null;
      setTriangles(new Map());
    };
  }, [viewGeneration]);

  useEffect(() => {
    feedRef.current?.setActive(active);
    viewRef.current?.setActive(active);
  }, [active, viewGeneration]);

  useEffect(() => viewRef.current?.setMoreComing(clickRunning), [clickRunning, viewGeneration]);

  useEffect(() => {
    viewRef.current?.setStyles(segments.map((s) => ({ label: s.label, color: s.color, visible: s.visible, opacity: s.opacity ?? 1 })));
  }, [segments, viewGeneration]);

  useEffect(() => {
    const view = viewRef.current;
    if (!view) return;
    view.setSceneBounds(volume ? worldBounds(volume.geometry) : null);
    view.setStandardView('A');
    view.onPick = volume
      ? (world) => {
          setPicked(world);
          useViewStore.getState().setCrosshair(nearestVoxel(volume.geometry, world));
        }
      : null;
  }, [volume, viewGeneration]);

  // The scan's image is built only once volume rendering or the planes are asked for.
  const scanWanted = volumePreset !== null || planesShown;
  useEffect(() => {
    const view = viewRef.current;
    const voxels = volume && getVolume(volume.id);
    if (!view) return;
    view.setScan(
      volume && voxels && scanWanted
        ? { image: vtkImageFor(`${volume.id}@${volume.version}`, voxels), geometry: volume.geometry, percentiles: volume.percentiles }
        : null,
    );
  }, [volume, scanWanted, viewGeneration]);

  useEffect(() => {
    viewRef.current?.setVolumePreset(volumePreset);
  }, [volumePreset, volume, viewGeneration]);

  useEffect(() => {
    viewRef.current?.setSlicePlanes(planesShown, crosshair, windowLevel);
  }, [planesShown, crosshair, windowLevel, volume, viewGeneration]);

  const totalShown = [...triangles.values()].reduce((n, t) => n + t.shown, 0);
  const totalFull = [...triangles.values()].reduce((n, t) => n + t.full, 0);
  const exported = segments.find((s) => s.label === (exportLabel ?? activeLabel)) ?? segments[0];
  const exportMesh = async (format: 'stl' | 'obj') => {
    const mesh = exported && (await feedRef.current?.fullSurface(exported.label));
    if (!exported || !mesh || mesh.triangles.length === 0) return;
    const name = `${baseName()}_${exported.name.replace(/[^\w.-]+/g, '_')}_${coordinates}.${format}`;
    save(
      format === 'stl'
        ? meshToStl(mesh, exported.name, coordinates)
        : new TextEncoder().encode(meshToObj(mesh, exported.name, coordinates)),
      name,
    );
  };
  const screenshot = async () => {
    const url = await viewRef.current?.screenshot();
    if (url) save(await dataUrlBytes(url), `${baseName()}_3d.png`);
  };

  return (
    <div
      className="slice-view view-3d"
      data-testid="view-3d"
      data-triangles={[...triangles].map(([label, { shown }]) => `${label}:${shown}`).join(' ')}
      data-full-triangles={[...triangles].map(([label, { full }]) => `${label}:${full}`).join(' ')}
      data-picked={picked?.map((v) => v.toFixed(2)).join(',')}
      tabIndex={0}
      aria-label="3D view"
    >
      <div ref={canvasHostRef} className="canvas-host" data-testid="canvas-3d" />
      <div className="view-title">3D</div>
      {totalShown < totalFull && (
        <div className="view-3d-note" data-testid="3d-simplified" title="Exports (STL, OBJ) are always at full detail">
          Simplified for display: {triangleCount.format(totalShown)} of {triangleCount.format(totalFull)} triangles
        </div>
      )}
      {volume && (
        <div className="view-3d-tools">
          <div className="tool-row">
            <button type="button" data-testid="3d-reset" title="Reset the camera" onClick={() => viewRef.current?.resetCamera()}>
              Reset
            </button>
            {STANDARD_VIEWS.map(({ view, title }) => (
              <button
                key={view}
                type="button"
                data-testid={`3d-view-${view}`}
                title={`${title} view`}
                onClick={() => viewRef.current?.setStandardView(view)}
              >
                {view}
              </button>
            ))}
          </div>
          <div className="tool-row">
            <select
              aria-label="Volume rendering"
              data-testid="3d-volume-preset"
              value={volumePreset ?? ''}
              onChange={(e) => setVolumePreset((e.target.value || null) as VolumePreset | null)}
            >
              <option value="">No volume</option>
              {VOLUME_PRESETS.map(({ preset, title }) => (
                <option key={preset} value={preset}>
                  {title}
                </option>
              ))}
            </select>
            <label title="The three slice planes in place">
              <input type="checkbox" data-testid="3d-planes" checked={planesShown} onChange={(e) => setPlanesShown(e.target.checked)} />
              Planes
            </label>
          </div>
          <div className="tool-row">
            <button type="button" data-testid="3d-screenshot" title="Save the 3D view as PNG" onClick={() => void screenshot()}>
              PNG
            </button>
            <select aria-label="Segment to export" value={exported?.label ?? ''} onChange={(e) => setExportLabel(Number(e.target.value))}>
              {segments.map((s) => (
                <option key={s.label} value={s.label}>
                  {s.name}
                </option>
              ))}
            </select>
            <select aria-label="Mesh coordinates" value={coordinates} onChange={(e) => setCoordinates(e.target.value as MeshCoordinates)}>
              <option value="LPS">LPS</option>
              <option value="RAS">RAS</option>
            </select>
            <button
              type="button"
              data-testid="export-stl"
              disabled={!exported || !triangles.has(exported.label)}
              onClick={() => void exportMesh('stl')}
            >
              STL
            </button>
            <button
              type="button"
              data-testid="export-obj"
              disabled={!exported || !triangles.has(exported.label)}
              onClick={() => void exportMesh('obj')}
            >
              OBJ
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
