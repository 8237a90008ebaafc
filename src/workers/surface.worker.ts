/// <reference lib="webworker" />
/**
 * The surface worker: keeps the per-block meshes of the current labelmap and re-meshes the blocks
 * each change touches, then sends the new surfaces of the labels that changed. Updates that arrive
 * together are answered once.
 */
import { BlockSurfaces } from '../core/surface/surface-nets';
import type { SurfaceReply, SurfaceRequest } from './surface-protocol';

let surfaces: BlockSurfaces | null = null;
let generation = 0;
const changedLabels = new Set<number>();
let oldestChangedAt = Infinity;
let replyScheduled = false;

function reply(): void {
  replyScheduled = false;
  if (!surfaces || changedLabels.size === 0) return;
  const current = surfaces;
  const message: SurfaceReply = {
    generation,
    changedAt: oldestChangedAt,
    surfaces: [...changedLabels].map((label) => ({ label, surface: current.surface(label) })),
  };
  changedLabels.clear();
  oldestChangedAt = Infinity;
  const buffers = message.surfaces.flatMap(({ surface }) => [surface.positions.buffer, surface.normals.buffer, surface.triangles.buffer]);
  self.postMessage(message, { transfer: buffers });
}

self.onmessage = ({ data }: MessageEvent<SurfaceRequest>) => {
  if (data.type === 'reset') {
    surfaces = new BlockSurfaces(data.geometry);
    generation = data.generation;
    changedLabels.clear();
    oldestChangedAt = Infinity;
    return;
  }
  if (!surfaces || data.generation !== generation) return;
  for (const label of surfaces.update(data.region, data.blocks)) changedLabels.add(label);
  oldestChangedAt = Math.min(oldestChangedAt, data.changedAt);
  if (!replyScheduled) {
    replyScheduled = true;
    setTimeout(reply, 0);
  }
};
