import { describe, expect, it } from 'vitest';
import { indexToWorldMatrix, voxelIndex, voxelOffset } from '../geometry';
import { centredGeometry, makeShapeLabels, type PhantomShape } from '../phantom';
import { Segmentation } from '../segmentation/segmentation';
import type { ImageGeometry, Mat3, Vec3 } from '../types';
import { readBox, unionBox } from '../segmentation/region';
import { BlockSurfaces, blockInputBox, blocksTouchedBy, enclosedVolume, meshBlock, meshBounds, type SurfaceMesh } from './surface-nets';

/** 25 degrees about z then 15 about x: no index axis lies along a world axis. */
const c1 = Math.cos((25 * Math.PI) / 180);
const s1 = Math.sin((25 * Math.PI) / 180);
const c2 = Math.cos((15 * Math.PI) / 180);
const s2 = Math.sin((15 * Math.PI) / 180);
// Columns of Rz(25) * Rx(15), column-major.
const OBLIQUE: Mat3 = [c1, s1, 0, -s1 * c2, c1 * c2, s2, s1 * s2, -c1 * s2, c2];
const LEFT_HANDED: Mat3 = [...OBLIQUE.slice(0, 6), ...OBLIQUE.slice(6).map((v) => -v)] as Mat3;

const SHAPES: PhantomShape[] = [
  { kind: 'ellipsoid', center: [-8, 4, 3], radii: [14, 10, 18], value: 1 },
  { kind: 'box', center: [13, -7, -8], halfSize: [8, 10, 9], value: 1 },
  // Thin: one to two voxels across at this spacing, it must not vanish.
  {
    kind: 'tube',
    points: [
      [-20, -20, -20],
      [0, -18, 20],
    ],
    radius: 1.2,
    value: 1,
  },
];

function segmentationOf(geometry: ImageGeometry): Segmentation {
  const segmentation = new Segmentation(geometry);
  const labels = makeShapeLabels(geometry, SHAPES).data;
  segmentation.replaceAll(
    labels,
    [1, 2, 3].map((label) => ({ label, name: `S${label}`, color: [255, 0, 0], visible: true, points: [] })),
  );
  return segmentation;
}

function wholeImage(geometry: ImageGeometry) {
  return { min: [0, 0, 0] as Vec3, max: geometry.size.map((n) => n - 1) as Vec3 };
}

/** World bounds of a label's voxel centres, and the world extent of one voxel along each world axis. */
function labelWorldBounds(segmentation: Segmentation, label: number) {
  const m = indexToWorldMatrix(segmentation.geometry);
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  segmentation.labels.forEach((value, offset) => {
    if (value !== label) return;
    const [i, j, k] = voxelIndex(segmentation.geometry.size, offset);
    for (let a = 0; a < 3; a++) {
      const x = m[12 + a] + m[a] * i + m[4 + a] * j + m[8 + a] * k;
      min[a] = Math.min(min[a], x);
      max[a] = Math.max(max[a], x);
    }
  });
  const voxelExtent = [0, 1, 2].map((a) => Math.abs(m[a]) + Math.abs(m[4 + a]) + Math.abs(m[8 + a]));
  return { min, max, voxelExtent };
}

function expectSurfaceMatchesLabel(mesh: SurfaceMesh, segmentation: Segmentation, label: number): void {
  const bounds = meshBounds(mesh)!;
  const expected = labelWorldBounds(segmentation, label);
  for (let a = 0; a < 3; a++) {
    // The surface lies around the voxel centres, never more than one voxel beyond or inside them.
    expect(Math.abs(bounds.min[a] - expected.min[a])).toBeLessThan(expected.voxelExtent[a]);
    expect(Math.abs(bounds.max[a] - expected.max[a])).toBeLessThan(expected.voxelExtent[a]);
  }
  expect(enclosedVolume(mesh) / 1000 / segmentation.volumeMl(label)).toBeCloseTo(1, label === 3 ? 0 : 1);
}

describe('segment surfaces (surface nets on a blurred labelmap)', () => {
  for (const [name, direction] of [
    ['oblique', OBLIQUE],
    ['oblique and left-handed', LEFT_HANDED],
  ] as const) {
    it(`match the labelmap's world bounds and volume on an ${name}, anisotropic LPS grid`, () => {
      const geometry = centredGeometry([70, 60, 36], [0.8, 0.9, 1.6], direction);
      const segmentation = segmentationOf(geometry);
      const surfaces = new BlockSurfaces(geometry);
      const box = wholeImage(geometry);
      const changed = surfaces.update({ box, data: segmentation.labels }, blocksTouchedBy(box, geometry.size));
      expect([...new Set(changed.map((key) => key.label))].sort()).toEqual([1, 2, 3]);
      for (const label of [1, 2]) {
        const mesh = surfaces.surface(label);
        expectSurfaceMatchesLabel(mesh, segmentation, label);
        const ratio = enclosedVolume(mesh) / 1000 / segmentation.volumeMl(label);
        expect(Math.abs(ratio - 1)).toBeLessThan(0.03);
      }
      // The thin tube keeps its surface (the clamp keeps every voxel inside).
      const tube = surfaces.surface(3);
      expect(tube.triangles.length).toBeGreaterThan(0);
      expect(enclosedVolume(tube)).toBeGreaterThan(0);
      // Normals point outwards: away from the ellipsoid's centre.
      const ellipsoid = surfaces.surface(1);
      let outward = 0;
      for (let v = 0; v < ellipsoid.positions.length; v += 3) {
        const d = [0, 1, 2].map((a) => ellipsoid.positions[v + a] - (SHAPES[0] as { center: Vec3 }).center[a]);
        if (d[0] * ellipsoid.normals[v] + d[1] * ellipsoid.normals[v + 1] + d[2] * ellipsoid.normals[v + 2] > 0) outward++;
      }
      expect(outward / (ellipsoid.positions.length / 3)).toBeGreaterThan(0.99);
    });
  }

  it('re-meshes only the changed region and ends as a mesh of the whole labelmap would', () => {
    const geometry = centredGeometry([70, 60, 36], [0.8, 0.9, 1.6], OBLIQUE);
    const segmentation = segmentationOf(geometry);
    const incremental = new BlockSurfaces(geometry);
    const box = wholeImage(geometry);
    incremental.update({ box, data: segmentation.labels }, blocksTouchedBy(box, geometry.size));
    const before = incremental.surface(2);

    // A brush stroke grows the box segment; only the boxes its dabs announce go to the update.
    let changed: { min: Vec3; max: Vec3 } | null = null;
    segmentation.subscribe((change) => (changed = unionBox(changed, change.box)));
    segmentation.beginStroke(2, false);
    segmentation.dab({ center: [20, 20, 10], radiusMm: 4, shape: { kind: 'sphere' } });
    segmentation.endStroke();
    expect(changed).not.toBeNull();
    // Only the labels around the stroke are read, as the main thread sends them.
    const touched = blocksTouchedBy(changed!, geometry.size);
    const input = blockInputBox(touched, geometry.size);
    const region = { box: input, data: readBox(segmentation.labels, geometry.size, input) };
    expect(new Set(incremental.update(region, touched).map((key) => key.label))).toEqual(new Set([2]));

    const fresh = new BlockSurfaces(geometry);
    fresh.update({ box, data: segmentation.labels }, blocksTouchedBy(box, geometry.size));
    const after = incremental.surface(2);
    expect(after.triangles.length).toBeGreaterThan(before.triangles.length);
    expect(after.triangles.length).toBe(fresh.surface(2).triangles.length);
    expect(enclosedVolume(after)).toBeCloseTo(enclosedVolume(fresh.surface(2)), 3);
    expectSurfaceMatchesLabel(after, segmentation, 2);
  });

  it('meshes marked blocks a few at a time, each once however often it was marked', () => {
    const geometry = centredGeometry([70, 60, 36], [0.8, 0.9, 1.6], OBLIQUE);
    const segmentation = segmentationOf(geometry);
    const whole = { box: wholeImage(geometry), data: segmentation.labels };
    const all = blocksTouchedBy(whole.box, geometry.size);
    const blockCount = [0, 1, 2].reduce((n, a) => n * (all.max[a] - all.min[a] + 1), 1);
    const later = new BlockSurfaces(geometry);
    later.mark(all);
    later.mark({ min: all.min, max: all.min });
    expect(later.markedBlocks).toBe(blockCount);

    let meshed = 0;
    later.updateMarked(whole, () => ++meshed === 2);
    expect(later.markedBlocks).toBe(blockCount - 2);
    later.updateMarked(whole, () => false);
    expect(later.markedBlocks).toBe(0);
    expect(later.updateMarked(whole, () => false)).toEqual([]);

    const now = new BlockSurfaces(geometry);
    now.update(whole, all);
    for (const label of [1, 2, 3]) expect(later.surface(label)).toEqual(now.surface(label));
  });

  it("computes a block's field only around its surface, as exactly as over the whole block", () => {
    // A block inside the image, filled with the segment but for a hole; then for the same hole and
    // a voxel far from it: the second's field is computed over a box spanning both, the first's
    // around the hole only (the segment's voxels around it are not 0, as outside the box is taken to be).
    const geometry = centredGeometry([96, 96, 96], [0.8, 0.9, 1.6], OBLIQUE);
    const labels = makeShapeLabels(geometry, [{ kind: 'ellipsoid', center: [0, 0, 0], radii: [5, 5, 7], value: 1 }]).data.map((v) => 1 - v);
    const region = { box: wholeImage(geometry), data: labels };
    const ball = meshBlock(geometry, region, [1, 1, 1]).get(1)!;
    labels[voxelOffset(geometry.size, 61, 33, 61)] = 0;
    const ballAndVoxel = meshBlock(geometry, region, [1, 1, 1]).get(1)!;
    const vertexKeys = (mesh: SurfaceMesh) =>
      Array.from({ length: mesh.positions.length / 3 }, (_, v) =>
        [...mesh.positions.subarray(3 * v, 3 * v + 3), ...mesh.normals.subarray(3 * v, 3 * v + 3)].join(),
      );
    const keys = new Set(vertexKeys(ballAndVoxel));
    expect(vertexKeys(ball).filter((key) => !keys.has(key))).toEqual([]);
    // The voxel's own surface: a closed polyhedron of 8 triangles or more.
    expect(ballAndVoxel.triangles.length - ball.triangles.length).toBeGreaterThanOrEqual(3 * 8);
  });

  it('splits a surface into chunks that together are the whole surface', () => {
    // 150 voxels along i: two chunks of 128 cells.
    const geometry = centredGeometry([150, 40, 24], [0.5, 1, 2], OBLIQUE);
    const segmentation = new Segmentation(geometry);
    const labels = makeShapeLabels(geometry, [{ kind: 'ellipsoid', center: [0, 0, 0], radii: [34, 12, 16], value: 1 }]).data;
    segmentation.replaceAll(labels, [{ label: 1, name: 'S1', color: [255, 0, 0], visible: true, points: [] }]);
    const surfaces = new BlockSurfaces(geometry);
    const box = wholeImage(geometry);
    const changed = surfaces.update({ box, data: segmentation.labels }, blocksTouchedBy(box, geometry.size));
    expect(changed.map((key) => key.chunk).sort()).toEqual([0, 1]);
    const chunks = changed.map((key) => surfaces.chunkSurface(key).surface);
    expect(chunks.every((mesh) => mesh.triangles.length > 0)).toBe(true);
    const whole = surfaces.surface(1);
    expect(chunks.reduce((n, mesh) => n + mesh.triangles.length, 0)).toBe(whole.triangles.length);
    expect(chunks.reduce((v, mesh) => v + enclosedVolume(mesh), 0)).toBeCloseTo(enclosedVolume(whole), 0);
  });

  it('keeps noisy blocks simplified for display and meshes them exactly again for an export', () => {
    const geometry = centredGeometry([40, 36, 24], [0.8, 0.9, 1.6], OBLIQUE);
    const labels = new Uint8Array(40 * 36 * 24);
    let seed = 7;
    for (let n = 0; n < labels.length; n++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      labels[n] = seed < 2147483648 * 0.4 ? 1 : 0;
    }
    const region = { box: wholeImage(geometry), data: labels };
    const all = blocksTouchedBy(region.box, geometry.size);
    const exact = new BlockSurfaces(geometry);
    const kept = new BlockSurfaces(geometry, { noisy: { above: 2000, keep: 500 } });
    const changed = exact.update(region, all);
    expect(kept.update(region, all)).toEqual(changed);

    for (const key of changed) {
      const full = exact.chunkSurface(key);
      const simplified = kept.chunkSurface(key);
      expect(simplified.triangles).toBe(full.triangles);
      expect(simplified.triangles).toBe(full.surface.triangles.length / 3);
      expect(simplified.surface.triangles.length).toBeLessThan(full.surface.triangles.length / 4);
    }
    expect(kept.surface(1, region)).toEqual(exact.surface(1));
    expect(() => kept.surface(1)).toThrow(/simplified/);
    // Meshing the same labels again changes no chunk.
    expect(kept.update(region, all)).toEqual([]);
  });
});
