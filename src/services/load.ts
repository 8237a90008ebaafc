/**
 * Opening scans: picks the reader for the given files, reports progress and errors, and swaps
 * the new volume in only once it loaded, so a bad file never loses what is on screen.
 */
import { formatFromName } from '../core/formats';
import { LoadError, voxelTypeName } from '../core/validate';
import type { Vec3, Volume } from '../core/types';
import { isDicomSegFile, listDicomSeries, readDicomSeries, readImageFile } from '../io/browser';
import { skippedSummary } from '../io/dicom-series';
import type { DicomSeriesInfo, LoadedImage, LoadProgress, ProgressCallback } from '../io/types';
import { exactRange, initialWindow, sampleIntensityStats } from '../viewer/windowLevel';
import { useLoadStore } from '../state/loadStore';
import { useViewStore } from '../state/viewStore';
import { currentSegmentation } from './segmentation';
import { importLabelmap } from './segmentationFiles';
import { registerVolume } from '../state/volumeRegistry';
import { useVolumeStore } from '../state/volumeStore';

/** Series found in the last opened folder, waiting for the user's choice (files stay out of the store). */
let offeredSeries: DicomSeriesInfo[] = [];

const PHASE_TEXT: Record<LoadProgress['phase'], string> = {
  reading: 'Reading',
  decoding: 'Decoding',
  converting: 'Preparing',
};

/** Progress into the store, at most once per percent: readers report every few kilobytes. */
export function progressReporter(name: string): ProgressCallback {
  let last: LoadProgress | null = null;
  return (progress) => {
    const fraction = progress.fraction ?? null;
    const sameStep = last?.phase === progress.phase && Math.abs((last.fraction ?? -1) - (fraction ?? -1)) < 0.01;
    if (sameStep && fraction !== 1) return;
    last = progress;
    useLoadStore.getState().setProgress(fraction, `${PHASE_TEXT[progress.phase]} ${name}`);
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorMessage(error: unknown): string {
  if (error instanceof LoadError) return `Could not open ${error.fileName}: ${error.reason}`;
  return `Could not open the scan: ${errorText(error)}`;
}

/**
 * Makes a loaded image the current volume, with a fresh crosshair and a suitable window. The
 * exact intensity range follows after the first render (it scans every voxel).
 */
function showVolume(loaded: LoadedImage): void {
  const { volume } = loaded;
  const stats = sampleIntensityStats(volume.data);
  const preset = initialWindow(stats, loaded.modality);
  const id = registerVolume(volume, loaded.dicomFiles);
  const g = volume.geometry;
  const center = g.size.map((n) => Math.floor(n / 2)) as Vec3;
  useViewStore.getState().resetForVolume(center, preset.windowLevel, preset.name);
  useVolumeStore.getState().setCurrent({
    id,
    version: 1,
    name: loaded.name,
    modality: loaded.modality,
    fromDicom: Boolean(loaded.dicomFiles?.length),
    geometry: g,
    dataType: voxelTypeName(volume.data),
    range: null,
    percentiles: stats.percentiles,
  });
  void exactRange(volume.data).then((range) => useVolumeStore.getState().setRange(id, range));
  for (const warning of loaded.warnings ?? []) useLoadStore.getState().notify('warning', `${loaded.name}: ${warning}`);
}

/** Runs one load at a time with progress and error reporting. */
export async function runLoad(activity: string, task: () => Promise<LoadedImage | null>): Promise<void> {
  const load = useLoadStore.getState();
  if (load.busy) {
    load.notify('info', 'A scan is still loading; please wait for it to finish.');
    return;
  }
  load.startLoading(activity);
  try {
    const loaded = await task();
    if (loaded) showVolume(loaded);
  } catch (error) {
    console.error(error);
    load.notify('error', errorMessage(error));
  } finally {
    useLoadStore.getState().finishLoading();
  }
}

const SINGLE_FILE_FORMATS = new Set(['nifti', 'nrrd', 'metaimage']);

/** A name for a set of files: their folder when they came from one. */
function folderName(files: File[]): string {
  const path = files[0].webkitRelativePath;
  return path ? path.split('/')[0] : `${files.length} files`;
}

function readSeries(series: DicomSeriesInfo): Promise<LoadedImage> {
  return readDicomSeries(series.files, progressReporter(series.description));
}

/**
 * Opens what the user picked or dropped: one image file, or DICOM files (a folder). A folder
 * with several series opens the series chooser instead of loading.
 */
export async function openFiles(picked: File[]): Promise<void> {
  const files = picked.filter((f) => !f.name.startsWith('.'));
  if (files.length === 0) return;
  // A DICOM SEG opened over a scan adds its segments to it (a scan is never replaced by a SEG).
  if (files.length === 1 && currentSegmentation() && (await isDicomSegFile(files[0]))) {
    const notify = useLoadStore.getState().notify;
    await importLabelmap(files[0]).then(
      () => notify('info', `Imported the segments of ${files[0].name}.`),
      (error: unknown) => notify('error', `Could not import ${errorText(error)}`),
    );
    return;
  }
  const imageFiles = files.filter((f) => SINGLE_FILE_FORMATS.has(formatFromName(f.name)));
  if (files.length === 1 || imageFiles.length > 0) {
    // One file of any kind (the reader names unsupported ones), or the first image file picked.
    const file = imageFiles[0] ?? files[0];
    await runLoad(`Reading ${file.name}`, () => readImageFile(file, progressReporter(file.name)));
    if (files.length > 1) {
      useLoadStore.getState().notify('info', `Opened ${file.name}; the ${files.length - 1} other files were ignored.`);
    }
    return;
  }
  const name = folderName(files);
  await runLoad(`Looking for DICOM series in ${name}`, async () => {
    const { series, skipped } = await listDicomSeries(files, progressReporter(name));
    const summary = skippedSummary(skipped);
    if (series.length === 0) throw new LoadError(name, `no DICOM images found${summary ? ` (${summary})` : ''}`);
    if (summary) useLoadStore.getState().notify('info', `${name}: ${summary}`);
    if (series.length === 1) return readSeries(series[0]);
    offeredSeries = series;
    useLoadStore.getState().setSeriesChoice(
      series.map((s) => ({
        uid: s.seriesInstanceUid,
        description: s.description,
        modality: s.modality,
        size: `${s.columns} × ${s.rows} × ${s.fileCount}`,
        fileCount: s.fileCount,
      })),
    );
    return null;
  });
}

/** Loads the series picked in the chooser (null: the user cancelled). */
export async function chooseSeries(uid: string | null): Promise<void> {
  const series = offeredSeries.find((s) => s.seriesInstanceUid === uid);
  offeredSeries = [];
  useLoadStore.getState().setSeriesChoice(null);
  if (series) await runLoad(`Reading ${series.description}`, () => readSeries(series));
}

function generateDemoPhantom(): Promise<Volume> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('../workers/demo-phantom.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<Volume>) => {
      worker.terminate();
      resolve(event.data);
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || 'the demo generator failed'));
    };
    worker.postMessage(null);
  });
}

/** Opens the synthetic CT phantom, generated on the fly by our own code (nothing to download). */
export async function loadDemo(): Promise<void> {
  await runLoad('Generating the demo phantom', async () => ({
    volume: await generateDemoPhantom(),
    name: 'Demo phantom (synthetic CT)',
    modality: 'CT',
  }));
}
