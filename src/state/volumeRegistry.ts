import { shareVoxels } from '../core/shared-voxels';
import type { Volume } from '../core/types';

/**
 * Voxel buffers live here, outside reactive state: stores hold only metadata and a version
 * counter, and views fetch the buffer by id when the version changes. A volume read from a DICOM
 * series keeps its source files here too, for the DICOM SEG export. Voxels are kept in a
 * SharedArrayBuffer where the page is cross-origin isolated, so the inference worker reads these
 * same voxels instead of a copy; the readers put them there (sharedArray), so shareVoxels only
 * copies what came from elsewhere.
 */
const volumes = new Map<string, Volume>();
const dicomSources = new Map<string, File[]>();
let nextId = 1;

export function registerVolume(volume: Volume, dicomFiles?: File[]): string {
  const id = `volume-${nextId++}`;
  volumes.set(id, { ...volume, data: shareVoxels(volume.data) });
  if (dicomFiles?.length) dicomSources.set(id, dicomFiles);
  return id;
}

export function getVolume(id: string): Volume | undefined {
  return volumes.get(id);
}

/** The DICOM files volume `id` was read from; undefined when it did not come from DICOM. */
export function getDicomSource(id: string): File[] | undefined {
  return dicomSources.get(id);
}

export function releaseVolume(id: string): void {
  volumes.delete(id);
  dicomSources.delete(id);
}
