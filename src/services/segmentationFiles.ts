/**
 * Export of the labelmap (NIfTI through itk-wasm, 3D Slicer .seg.nrrd) on the source grid, and
 * import of a labelmap file (NIfTI / NRRD / seg.nrrd on the same grid) to continue editing it.
 */
import { buildDicomSegMetaInfo } from '../core/export/dicom-seg-meta';
import { readSegNrrd, writeSegNrrd, type LabelmapDocument } from '../core/export/seg-nrrd';
import { segmentsForLabels } from '../core/segmentation/segments';
import { plainVoxels } from '../core/shared-voxels';
import type { ImageGeometry } from '../core/types';
import { dicomSeriesUid, isDicomSegFile, readDicomSeg, readImageFile, writeDicomSeg, writeImageFile } from '../io/browser';
import { placeLabels, segMismatch, segmentsFromSegMeta } from '../io/dicom-seg';
import { currentSegmentation } from './segmentation';
import { getDicomSource } from '../state/volumeRegistry';
import { useVolumeStore } from '../state/volumeStore';

export function baseName(): string {
  const name = useVolumeStore.getState().current?.name ?? 'scan';
  return name.replace(/(\.nii\.gz|\.nii|\.nrrd|\.nhdr|\.mha|\.mhd)$/i, '').replace(/[^\w.-]+/g, '_') || 'scan';
}

export function save(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function currentDocument(): LabelmapDocument {
  const segmentation = currentSegmentation();
  if (!segmentation) throw new Error('Nothing to export: open a scan first.');
  return { geometry: segmentation.geometry, labels: plainVoxels(segmentation.labels), segments: [...segmentation.segments] };
}

export async function exportNifti(): Promise<void> {
  const doc = currentDocument();
  const fileName = `${baseName()}.segmentation.nii.gz`;
  save(await writeImageFile({ geometry: doc.geometry, data: doc.labels }, fileName), fileName);
}

export function exportSegNrrd(): void {
  save(writeSegNrrd(currentDocument()), `${baseName()}.seg.nrrd`);
}

/**
 * DICOM SEG of the painted segments, referencing the DICOM series the scan was read from (its
 * study, series and frame of reference): downloaded, or stored to a PACS.
 */
export async function dicomSegOfCurrentScan(): Promise<{ bytes: Uint8Array; fileName: string }> {
  const doc = currentDocument();
  const volume = useVolumeStore.getState().current;
  const seriesFiles = volume && getDicomSource(volume.id);
  if (!volume || !seriesFiles) throw new Error('DICOM SEG needs a scan opened from DICOM files.');
  const metaInfo = buildDicomSegMetaInfo(doc.segments, doc.labels, `Segmentation of ${volume.name}`.slice(0, 64));
  const fileName = `${baseName()}.seg.dcm`;
  return { bytes: await writeDicomSeg({ geometry: doc.geometry, data: doc.labels }, metaInfo, seriesFiles, fileName), fileName };
}

export async function exportDicomSeg(): Promise<void> {
  const { bytes, fileName } = await dicomSegOfCurrentScan();
  save(bytes, fileName);
}

/** Same grid within rounding: the labelmap's voxels must be the scan's voxels. */
function sameGrid(a: ImageGeometry, b: ImageGeometry): boolean {
  const close = (x: readonly number[], y: readonly number[], tolerance: number) => x.every((v, n) => Math.abs(v - y[n]) <= tolerance);
  return (
    close(a.size, b.size, 0) &&
    close(a.spacing, b.spacing, 1e-4) &&
    close(a.origin, b.origin, 1e-3) &&
    close(a.direction, b.direction, 1e-4)
  );
}

function requireSameGrid(file: File, geometry: ImageGeometry, grid: ImageGeometry): void {
  if (!sameGrid(geometry, grid)) {
    throw new Error(`${file.name} is not on this scan's grid (size ${geometry.size.join(' x ')}); it cannot be imported.`);
  }
}

/** A DICOM SEG's segments placed on the open scan's grid (it must belong to that scan). */
async function readDicomSegLabelmap(file: File, grid: ImageGeometry): Promise<LabelmapDocument> {
  const { header, labels, metaInfo } = await readDicomSeg(file);
  const volume = useVolumeStore.getState().current;
  const seriesFile = volume && getDicomSource(volume.id)?.[0];
  const placed = placeLabels(labels, grid);
  const mismatch = segMismatch(header, seriesFile ? await dicomSeriesUid(seriesFile) : null, placed);
  if (mismatch || 'problem' in placed) throw new Error(`${file.name}: ${mismatch}`);
  return { geometry: grid, labels: placed.labels, segments: segmentsFromSegMeta(metaInfo, placed.labels) };
}

/** Reads a labelmap file that must lie on `grid`. */
async function readLabelmap(file: File, grid: ImageGeometry): Promise<LabelmapDocument> {
  if (await isDicomSegFile(file)) return readDicomSegLabelmap(file, grid);
  if (/\.nrrd$/i.test(file.name)) {
    let doc: LabelmapDocument | null = null;
    try {
      doc = readSegNrrd(new Uint8Array(await file.arrayBuffer()));
    } catch {
      // Not an 8-bit one-layer NRRD: itk-wasm reads the other kinds below.
    }
    if (doc) {
      requireSameGrid(file, doc.geometry, grid);
      return doc;
    }
  }
  const { volume } = await readImageFile(file);
  requireSameGrid(file, volume.geometry, grid);
  const labels = new Uint8Array(volume.data.length);
  for (let n = 0; n < labels.length; n++) {
    const value = Number(volume.data[n]);
    if (!Number.isInteger(value) || value < 0 || value > 255) {
      throw new Error(`${file.name} is not a labelmap: it holds the value ${value} (labels are whole numbers 0-255).`);
    }
    labels[n] = value;
  }
  return { geometry: volume.geometry, labels, segments: segmentsForLabels(labels) };
}

/** Replaces the current labelmap with a file's (one undoable step). */
export async function importLabelmap(file: File): Promise<void> {
  const segmentation = currentSegmentation();
  if (!segmentation) throw new Error('Open the scan first, then its labelmap.');
  const doc = await readLabelmap(file, segmentation.geometry);
  segmentation.replaceAll(doc.labels, doc.segments);
}
