/** Types shared by the browser and Node readers. */
import type { Volume } from '../core/types';

/** Progress of a read: a fraction in [0, 1] when known, and a short phase for the UI. */
export interface LoadProgress {
  phase: 'reading' | 'decoding' | 'converting';
  fraction?: number;
}
export type ProgressCallback = (progress: LoadProgress) => void;

/** A loaded scan: the volume plus what the UI shows about its source. */
export interface LoadedImage {
  volume: Volume;
  /** File name (or series description for DICOM). */
  name: string;
  /** Modality when known (DICOM), e.g. 'CT'. */
  modality?: string;
  /** The DICOM files the volume was read from: a DICOM SEG export references them. */
  dicomFiles?: File[];
  /** What the user should know about the scan as shown (e.g. missing slices interpolated). */
  warnings?: string[];
}

/** One DICOM series found among many files. */
export interface DicomSeriesInfo<F = File> {
  seriesInstanceUid: string;
  description: string;
  modality: string;
  /** Number of image files (slices) in the series. */
  fileCount: number;
  /** Rows x columns of the first slice. */
  rows: number;
  columns: number;
  /** The files of the series, in the order found (itk-wasm sorts them spatially). */
  files: F[];
}
