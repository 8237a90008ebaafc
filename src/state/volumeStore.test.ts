import { describe, expect, it } from 'vitest';
import type { Volume } from '../core/types';
import { getVolume, registerVolume } from './volumeRegistry';
import { useVolumeStore, type VolumeInfo } from './volumeStore';

function volume(): Volume {
  return {
    geometry: { size: [2, 2, 2], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
    data: new Int16Array(8),
  };
}

function info(id: string): VolumeInfo {
  const { geometry } = getVolume(id)!;
  return { id, version: 1, name: id, geometry, dataType: 'int16', range: null, percentiles: [0, 0] };
}

describe('volume store', () => {
  it('frees the previous voxel buffer when a new volume replaces it', () => {
    const first = registerVolume(volume());
    const second = registerVolume(volume());
    useVolumeStore.getState().setCurrent(info(first));
    useVolumeStore.getState().setCurrent(info(second));
    expect(getVolume(first)).toBeUndefined();
    expect(getVolume(second)).toBeDefined();
    expect(useVolumeStore.getState().current?.id).toBe(second);
  });

  it('records the exact range only for the volume still shown', () => {
    const shown = registerVolume(volume());
    useVolumeStore.getState().setCurrent(info(shown));
    useVolumeStore.getState().setRange('volume-that-was-replaced', [1, 2]);
    expect(useVolumeStore.getState().current?.range).toBeNull();
    useVolumeStore.getState().setRange(shown, [-5, 9]);
    expect(useVolumeStore.getState().current?.range).toEqual([-5, 9]);
  });
});
