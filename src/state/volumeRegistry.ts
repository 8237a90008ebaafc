import type { Volume } from '../core/types';

/**
 * Voxel buffers live here, outside reactive state: stores hold only metadata and a version
 * counter, and views fetch the buffer by id when the version changes.
 */
const volumes = new Map<string, Volume>();
let nextId = 1;

export function registerVolume(volume: Volume): string {
  const id = `volume-${nextId++}`;
  volumes.set(id, volume);
  return id;
}

export function getVolume(id: string): Volume | undefined {
  return volumes.get(id);
}

export function releaseVolume(id: string): void {
  volumes.delete(id);
}
