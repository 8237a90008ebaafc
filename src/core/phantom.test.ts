import { describe, expect, it } from 'vitest';
import { indexToWorld, voxelOffset, worldToIndex } from './geometry';
import { makeDemoPhantom, makeShapeLabels, makeShapePhantom } from './phantom';
import type { ImageGeometry, Mat3, Vec3, Volume } from './types';

function valueAt(volume: Volume, world: Vec3): number {
  const [i, j, k] = worldToIndex(volume.geometry, world).map(Math.round);
  return volume.data[voxelOffset(volume.geometry.size, i, j, k)];
}

/** Element-wise equality (vitest's deep equality is very slow on millions of elements). */
function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let n = 0; n < a.length; n++) if (a[n] !== b[n]) return false;
  return true;
}

/** Mean of the voxels within 3 mm of a world point (averages the noise away). */
function meanAround(volume: Volume, world: Vec3): number {
  let sum = 0;
  let count = 0;
  for (const dx of [-3, 0, 3])
    for (const dy of [-3, 0, 3])
      for (const dz of [-2, 0, 2]) {
        sum += valueAt(volume, [world[0] + dx, world[1] + dy, world[2] + dz]);
        count++;
      }
  return sum / count;
}

describe('demo phantom', () => {
  const phantom = makeDemoPhantom();
  const { volume, labels, organs } = phantom;

  it('has the documented grid, centred on the world origin', () => {
    expect(volume.geometry.size).toEqual([160, 160, 120]);
    expect(volume.geometry.spacing).toEqual([1.2, 1.2, 2.0]);
    expect(volume.data).toBeInstanceOf(Int16Array);
    expect(volume.data.length).toBe(160 * 160 * 120);
    indexToWorld(volume.geometry, [79.5, 79.5, 59.5]).forEach((v) => expect(v).toBeCloseTo(0, 9));
    expect(labels.geometry).toEqual(volume.geometry);
  });

  it('is deterministic for a seed', () => {
    const again = makeDemoPhantom();
    expect(sameValues(again.volume.data, volume.data)).toBe(true);
    const other = makeDemoPhantom({ seed: 99 });
    expect(sameValues(other.volume.data, volume.data)).toBe(false);
    expect(sameValues(other.labels.data, labels.data)).toBe(true);
  });

  it('has CT-like intensities: air, fat, soft tissue, organs, bone', () => {
    expect(meanAround(volume, [-90, -90, 0])).toBeCloseTo(-1000, -1.5);
    expect(meanAround(volume, [0, 60, -50])).toBeCloseTo(-100, -1.5); // posterior fat layer
    expect(meanAround(volume, [0, -30, -60])).toBeCloseTo(40, -1.5); // soft tissue
    expect(meanAround(volume, [-35, -5, 10])).toBeCloseTo(60, -1.5); // liver
    expect(meanAround(volume, [0, 34, -60])).toBeCloseTo(700, -1.5); // spine
    expect(meanAround(volume, [-40, 5, 88])).toBeCloseTo(-800, -1.5); // lung
  });

  it('labels every organ with its own label at its own place', () => {
    expect(new Set(organs.map((o) => o.label)).size).toBe(organs.length);
    for (const organ of organs) {
      const count = labels.data.reduce((n, v) => (v === organ.label ? n + 1 : n), 0);
      expect(count, organ.name).toBeGreaterThan(100);
    }
    const liver = organs.find((o) => o.name === 'Liver')!;
    expect(valueAt(labels, [-35, -5, 10])).toBe(liver.label);
    expect(valueAt(labels, [-90, -90, 0])).toBe(0);
  });

  it('has markers that are not mirror-symmetric', () => {
    // Bead on the patient's left (+x in LPS) only.
    expect(meanAround(volume, [86, 0, 0])).toBeGreaterThan(1000);
    expect(meanAround(volume, [-86, 0, 0])).toBeLessThan(0);
    // Notch of air in the anterior (-y) wall, none posteriorly.
    expect(valueAt(volume, [0, -62, 0])).toBeLessThan(-900);
    expect(valueAt(volume, [0, 62, 0])).toBeGreaterThan(-200);
    // Bar at the superior end, none at the inferior end.
    expect(meanAround(volume, [0, -20, 106])).toBeGreaterThan(1000);
    expect(meanAround(volume, [0, -20, -106])).toBeLessThan(100);
  });

  it('puts the anatomy at the same world place whatever the voxel axes', () => {
    const flipped: Mat3 = [-1, 0, 0, 0, -1, 0, 0, 0, 1];
    const ras = makeDemoPhantom({ direction: flipped });
    expect(ras.volume.geometry.direction).toEqual(flipped);
    for (const world of [
      [86, 0, 0],
      [-35, -5, 10],
      [38, 38, -20],
      [-38, 38, -35],
      [0, -62, 0],
    ] as Vec3[]) {
      expect(valueAt(ras.labels, world)).toBe(valueAt(labels, world));
      expect(Math.abs(valueAt(ras.volume, world) - valueAt(volume, world))).toBeLessThan(100);
    }
  });
});

describe('shape phantoms', () => {
  const oblique: ImageGeometry = {
    size: [60, 50, 40],
    spacing: [1, 1.5, 2],
    origin: [-30, -35, -40],
    direction: [Math.cos(0.4), Math.sin(0.4), 0, -Math.sin(0.4), Math.cos(0.4), 0, 0, 0, 1],
  };

  it('paints an ellipsoid of the right volume around its world centre', () => {
    const center: Vec3 = [2, -3, 1];
    const radii: Vec3 = [12, 8, 10];
    const volume = makeShapePhantom(oblique, [{ kind: 'ellipsoid', center, radii, value: 5 }], -1);
    let count = 0;
    let others = 0;
    const sum = [0, 0, 0];
    const [nx, ny] = oblique.size;
    volume.data.forEach((v, o) => {
      if (v !== 5) {
        if (v !== -1) others++;
        return;
      }
      count++;
      const world = indexToWorld(oblique, [o % nx, Math.floor(o / nx) % ny, Math.floor(o / (nx * ny))]);
      world.forEach((x, a) => (sum[a] += x));
    });
    expect(others).toBe(0);
    const expected = ((4 / 3) * Math.PI * radii[0] * radii[1] * radii[2]) / (1 * 1.5 * 2);
    expect(count / expected).toBeGreaterThan(0.95);
    expect(count / expected).toBeLessThan(1.05);
    sum.forEach((s, a) => expect(s / count).toBeCloseTo(center[a], 0));
  });

  it('paints a curved tube along its polyline and labels shapes in order', () => {
    const points: Vec3[] = [
      [-20, 0, -30],
      [0, 10, 0],
      [15, 0, 30],
    ];
    const shapes = [
      { kind: 'box' as const, center: [0, 0, 0] as Vec3, halfSize: [25, 25, 35] as Vec3, value: 1 },
      { kind: 'tube' as const, points, radius: 3, value: 9 },
    ];
    const labels = makeShapeLabels(oblique, shapes);
    for (const p of [points[0], [-10, 5, -15] as Vec3, points[1], [7.5, 5, 15] as Vec3]) expect(valueAt(labels, p)).toBe(2);
    expect(valueAt(labels, [10, -10, 0])).toBe(1);
    expect(valueAt(labels, [28, 0, 0])).toBe(0);
  });
});
