import { create } from 'zustand';
import type { ImageGeometry } from '../core/types';
import { releaseVolume } from './volumeRegistry';
import type { VoxelTypeName } from '../core/validate';

export interface VolumeInfo {
  /** Key of the voxel buffer in the volume registry. */
  id: string;
  /** Bumped whenever the voxels change, so views know to re-upload them. */
  version: number;
  /** File name, folder name or series description shown to the user. */
  name: string;
  /** DICOM modality when known, e.g. "CT". */
  modality?: string;
  /** Read from DICOM files (kept in the volume registry): a DICOM SEG can reference them. */
  fromDicom?: boolean;
  geometry: ImageGeometry;
  /** Voxel type, e.g. "int16". */
  dataType: VoxelTypeName;
  /** Exact intensity range; null while it is still being computed after the first render. */
  range: [number, number] | null;
  /** 1st and 99th intensity percentiles (sampled), for the automatic window. */
  percentiles: [number, number];
}

interface VolumeState {
  current: VolumeInfo | null;
  /** Replaces the shown volume and frees the previous voxel buffer. */
  setCurrent: (info: VolumeInfo) => void;
  /** Records the exact range of volume `id` if it is still the current one. */
  setRange: (id: string, range: [number, number]) => void;
}

export const useVolumeStore = create<VolumeState>()((set, get) => ({
  current: null,
  setCurrent: (info) => {
    const previous = get().current;
    set({ current: info });
    if (previous && previous.id !== info.id) releaseVolume(previous.id);
  },
  setRange: (id, range) => {
    const current = get().current;
    if (current?.id === id) set({ current: { ...current, range } });
  },
}));
