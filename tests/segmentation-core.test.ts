import { describe, expect, it } from 'vitest';
import type { ImageGeometry, Vec3 } from '../src/core/types';
import { Segmentation, type RegionMask, type SegmentationChange } from '../src/core/segmentation/segmentation';
import { forEachBrushSpan, type BrushDab } from '../src/core/segmentation/brush';
import { type VoxelBox, decodeRuns, encodeRuns, maskBounds, readBox, unionBox, writeBox } from '../src/core/segmentation/region';

function geometry(size: Vec3, spacing: Vec3 = [1, 1, 1]): ImageGeometry {
  return { size, spacing, origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
}

/** A box-shaped region holding a ball mask, as a model result would. */
function ballMask(region: RegionMask['region'], center: Vec3, radius: number): RegionMask {
  const [x0, y0, z0] = region.min;
  const w = region.max[0] - x0 + 1;
  const h = region.max[1] - y0 + 1;
  const d = region.max[2] - z0 + 1;
  const mask = new Uint8Array(w * h * d);
  for (let k = 0; k < d; k++)
    for (let j = 0; j < h; j++)
      for (let i = 0; i < w; i++) {
        const r2 = (i + x0 - center[0]) ** 2 + (j + y0 - center[1]) ** 2 + (k + z0 - center[2]) ** 2;
        mask[i + w * (j + h * k)] = r2 <= radius * radius ? 1 : 0;
      }
  return { region, mask };
}

/** Exact byte equality (expect().toEqual on large typed arrays is slow and its diffs unreadable). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  let differing = 0;
  for (let n = 0; n < actual.length; n++) if (actual[n] !== expected[n]) differing++;
  expect(differing).toBe(0);
}

/** Every non-zero voxel lies inside the labelmap's nonZeroBox (views read only that part of a slice). */
function expectNonZeroInsideBox(seg: Segmentation): void {
  const [nx, ny] = seg.geometry.size;
  const box = seg.nonZeroBox;
  let outside = 0;
  seg.labels.forEach((v, n) => {
    if (!v) return;
    const index = [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))];
    if (!box || index.some((x, axis) => x < box.min[axis] || x > box.max[axis])) outside++;
  });
  expect(outside).toBe(0);
}

function histogram(labels: Uint8Array): number[] {
  const counts = new Array<number>(256).fill(0);
  for (const v of labels) counts[v]++;
  return counts;
}

describe('run-length coding', () => {
  it('round-trips arbitrary bytes', () => {
    const data = new Uint8Array(1000);
    for (let n = 0; n < data.length; n++) data[n] = n % 37 < 20 ? 3 : (n * 7) % 5;
    expect(decodeRuns(encodeRuns(data), data.length)).toEqual(data);
    expect(decodeRuns(encodeRuns(new Uint8Array(0)), 0)).toEqual(new Uint8Array(0));
  });
});

describe('boxes', () => {
  it('finds the bounds of a mask and reads/writes boxes', () => {
    const size: Vec3 = [7, 5, 4];
    const grid = new Uint8Array(7 * 5 * 4);
    expect(maskBounds(grid, size)).toBeNull();
    grid[2 + 7 * (3 + 5 * 1)] = 1;
    grid[5 + 7 * (1 + 5 * 2)] = 1;
    const box = maskBounds(grid, size)!;
    expect(box).toEqual({ min: [2, 1, 1], max: [5, 3, 2] });
    const values = readBox(grid, size, box);
    expect(values.length).toBe(4 * 3 * 2);
    expect(values.reduce((a, b) => a + b, 0)).toBe(2);
    const copy = new Uint8Array(grid.length);
    writeBox(copy, size, box, values);
    expect(copy).toEqual(grid);
    expect(unionBox(box, { min: [0, 4, 2], max: [1, 4, 3] })).toEqual({ min: [0, 1, 1], max: [5, 4, 3] });
    expect(unionBox(null, box)).toBe(box);
  });
});

describe('segment table', () => {
  it('adds, renames and deletes segments as undo steps; colour, visibility and opacity are display state, outside undo', () => {
    const seg = new Segmentation(geometry([8, 8, 8]));
    const changes: SegmentationChange[] = [];
    seg.subscribe((change) => changes.push(change));
    const liver = seg.addSegment({ name: 'Liver' });
    const kidney = seg.addSegment();
    expect([liver.label, kidney.label]).toEqual([1, 2]);
    expect(kidney.name).toBe('Segment 2');
    expect(liver.color).not.toEqual(kidney.color);
    seg.updateSegment(2, { name: 'Kidney', color: [10, 20, 30], visible: false, opacity: 0.4 });
    expect(seg.segment(2)).toMatchObject({ name: 'Kidney', color: [10, 20, 30], visible: false, opacity: 0.4 });
    expect(changes.map((c) => c.reason)).toEqual(['edit', 'edit', 'display', 'edit']);
    seg.deleteSegment(1);
    expect(changes.at(-1)).toMatchObject({ reason: 'edit', removed: [1] });
    expect(seg.segments.map((s) => s.label)).toEqual([2]);
    // A new segment takes the lowest free label.
    expect(seg.addSegment().label).toBe(1);
    seg.undo();
    seg.undo();
    expect(seg.segments.map((s) => s.name)).toEqual(['Liver', 'Kidney']);
    // Undoing the rename keeps the colour, visibility and opacity as they are now.
    seg.undo();
    expect(seg.segment(2)).toMatchObject({ name: 'Segment 2', color: [10, 20, 30], visible: false, opacity: 0.4 });
    // Opacity stays within 0..1.
    seg.updateSegment(2, { opacity: 3 });
    expect(seg.segment(2)?.opacity).toBe(1);
    seg.updateSegment(2, { visible: true });
    expect(seg.canRedo).toBe(true);
    expect(seg.redo()).toBe(true);
    expect(seg.segment(2)).toMatchObject({ name: 'Kidney', visible: true });
  });

  it('holds up to 255 segments and refuses the 256th', () => {
    const seg = new Segmentation(geometry([2, 2, 2]));
    for (let n = 0; n < 255; n++) seg.addSegment();
    expect(seg.segments.at(-1)?.label).toBe(255);
    expect(() => seg.addSegment()).toThrow(/255/);
  });
});

describe('model masks and undo/redo', () => {
  it('replaces the segment inside the region only and restores exact masks on undo/redo', () => {
    const seg = new Segmentation(geometry([40, 30, 20]));
    const a = seg.addSegment().label;
    const b = seg.addSegment().label;
    const snapshots: Uint8Array[] = [seg.labels.slice()];
    expect(seg.nonZeroBox).toBeNull();
    // Click 1: a ball.
    seg.applyModelMask(a, ballMask({ min: [0, 0, 0], max: [39, 29, 19] }, [15, 15, 10], 8), {
      points: [{ index: [15, 15, 10], positive: true }],
    });
    expectNonZeroInsideBox(seg);
    snapshots.push(seg.labels.slice());
    // Segment b overlaps a's ball: a's voxels are kept (no overwrite by default).
    seg.applyModelMask(b, ballMask({ min: [10, 5, 0], max: [39, 29, 19] }, [25, 15, 10], 6));
    snapshots.push(seg.labels.slice());
    expect(seg.labels[15 + 40 * (15 + 30 * 10)]).toBe(a);
    expect(seg.labels[27 + 40 * (15 + 30 * 10)]).toBe(b);
    // Click 2 on a, within a smaller region: outside it a's voxels stay.
    seg.applyModelMask(a, ballMask({ min: [0, 0, 0], max: [14, 29, 19] }, [15, 15, 10], 4), {
      points: [
        { index: [15, 15, 10], positive: true },
        { index: [10, 15, 10], positive: false },
      ],
    });
    snapshots.push(seg.labels.slice());
    expect(seg.labels[9 + 40 * (15 + 30 * 10)]).toBe(0);
    expect(seg.labels[18 + 40 * (15 + 30 * 10)]).toBe(a);
    expect(seg.segment(a)?.points).toHaveLength(2);

    for (let n = snapshots.length - 2; n >= 0; n--) {
      expect(seg.undo()).toBe(true);
      expectSameBytes(seg.labels, snapshots[n]);
    }
    expect(seg.segment(a)?.points).toHaveLength(0);
    for (let n = 1; n < snapshots.length; n++) {
      expect(seg.redo()).toBe(true);
      expectSameBytes(seg.labels, snapshots[n]);
    }
    expect(seg.segment(a)?.points).toHaveLength(2);
  });

  it('a transaction in parts (overlapping boxes) commits as one undo step with the points', () => {
    const seg = new Segmentation(geometry([40, 30, 20]));
    const a = seg.addSegment().label;
    const start = seg.labels.slice();
    const points = [{ index: [15, 15, 10] as Vec3, positive: true }];
    const boxes: (VoxelBox | null)[] = [];
    seg.subscribe((change) => boxes.push(change.box));
    const transaction = seg.begin();
    transaction.writeMask(a, ballMask({ min: [0, 0, 0], max: [24, 29, 19] }, [15, 15, 10], 8));
    // The second part overlaps the first and takes back some of its voxels.
    transaction.writeMask(a, ballMask({ min: [12, 0, 0], max: [39, 29, 19] }, [26, 15, 10], 6));
    // Each part is on the labelmap at once, announced with the rows of its box where voxels
    // changed (the first ball's j and k, 15 +- 8 and 10 +- 8, in both); nothing is undoable yet.
    expect(boxes).toEqual([
      { min: [0, 7, 2], max: [24, 23, 18] },
      { min: [12, 7, 2], max: [39, 23, 18] },
    ]);
    expect(seg.canUndo).toBe(true); // the added segment
    transaction.commit({ label: a, points });
    expect(transaction.open).toBe(false);
    expect(seg.segment(a)?.points).toEqual(points);
    // The commit changes no voxel: its event names none, so views do not redraw the parts again.
    expect(boxes).toHaveLength(3);
    expect(boxes[2]).toBeNull();
    while (seg.compactHistory(50));
    const done = seg.labels.slice();
    const count = seg.voxelCount(a);
    expect(count).toBe(histogram(done)[a]);
    expect(seg.undo()).toBe(true);
    expectSameBytes(seg.labels, start);
    expect(seg.voxelCount(a)).toBe(0);
    expect(seg.segment(a)?.points).toHaveLength(0);
    expect(seg.redo()).toBe(true);
    expectSameBytes(seg.labels, done);
    expect(seg.voxelCount(a)).toBe(count);
  });

  it('a refining part announces only the rows it changed; a part that changes nothing, nothing', () => {
    const seg = new Segmentation(geometry([40, 30, 20]));
    const a = seg.addSegment().label;
    const region: VoxelBox = { min: [0, 0, 0], max: [39, 29, 19] };
    const first = ballMask(region, [20, 15, 10], 9);
    seg.applyModelMask(a, first);
    const boxes: (VoxelBox | null)[] = [];
    seg.subscribe((change) => boxes.push(change.box));
    const transaction = seg.begin();
    // The same mask again (a click that changes nothing here): no voxel changes, no event.
    transaction.writeMask(a, first);
    expect(boxes).toEqual([]);
    // The same mask less a small ball at its edge (a negative click): the ball's rows, the box's width.
    const refined = { region, mask: first.mask.slice() };
    const cut = ballMask(region, [27, 15, 10], 2);
    for (let n = 0; n < refined.mask.length; n++) if (cut.mask[n]) refined.mask[n] = 0;
    transaction.writeMask(a, refined);
    expect(boxes).toEqual([{ min: [0, 13, 8], max: [39, 17, 12] }]);
    transaction.commit();
    expect(seg.undo()).toBe(true);
    expectSameBytes(
      seg.labels,
      first.mask.map((v) => v * a),
    );
  });

  it('a rolled-back transaction leaves labelmap, counts and history exactly as before', () => {
    const seg = new Segmentation(geometry([40, 30, 20]));
    const a = seg.addSegment().label;
    const b = seg.addSegment().label;
    seg.applyModelMask(b, ballMask({ min: [0, 0, 0], max: [39, 29, 19] }, [20, 15, 10], 5));
    seg.applyModelMask(a, ballMask({ min: [0, 0, 0], max: [39, 29, 19] }, [12, 15, 10], 6));
    const before = seg.labels.slice();
    const countA = seg.voxelCount(a);
    const historyBytes = seg.historyBytes;
    const changes: SegmentationChange[] = [];
    seg.subscribe((change) => changes.push(change));
    let rolledBack = 0;
    const transaction = seg.begin('Segment', { onRollback: () => rolledBack++ });
    // Shrinks a's ball and grows it elsewhere, over b's voxels (which stay b's).
    transaction.writeMask(a, ballMask({ min: [0, 0, 0], max: [39, 29, 19] }, [12, 15, 10], 3));
    transaction.writeMask(a, ballMask({ min: [10, 0, 0], max: [39, 29, 19] }, [22, 15, 10], 7));
    expect(seg.labels.some((v, n) => v !== before[n])).toBe(true);
    transaction.rollback();
    expect(rolledBack).toBe(1);
    expectSameBytes(seg.labels, before);
    expect(seg.voxelCount(a)).toBe(countA);
    expect(seg.historyBytes).toBe(historyBytes);
    expect(changes.at(-1)?.reason).toBe('rollback');
    expect(() => transaction.writeMask(a, ballMask({ min: [0, 0, 0], max: [1, 1, 1] }, [0, 0, 0], 1))).toThrow(/closed/);
    // Undo goes to the step before the transaction.
    seg.undo();
    expect(seg.voxelCount(a)).toBe(0);
    expect(seg.voxelCount(b)).toBeGreaterThan(0);
  });

  it('a voxel edit during a transaction rolls it back first; a table edit does not', () => {
    const seg = new Segmentation(geometry([20, 20, 20]));
    const a = seg.addSegment().label;
    const before = seg.labels.slice();
    let rolledBack = 0;
    const transaction = seg.begin('Segment', { onRollback: () => rolledBack++ });
    transaction.writeMask(a, ballMask({ min: [0, 0, 0], max: [19, 19, 19] }, [10, 10, 10], 4));
    seg.updateSegment(a, { name: 'Liver', color: [1, 2, 3] });
    expect(transaction.open).toBe(true);
    // A brush stroke would interleave with the transaction's voxels: it closes it first.
    seg.beginStroke(a, false);
    expect(rolledBack).toBe(1);
    expect(transaction.open).toBe(false);
    expectSameBytes(seg.labels, before);
    seg.dab({ center: [2, 2, 2], radiusMm: 1, shape: { kind: 'sphere' } });
    seg.endStroke();
    expect(seg.undo()).toBe(true);
    expectSameBytes(seg.labels, before);
    expect(seg.segment(a)?.name).toBe('Liver');
  });

  it('nonZeroBox stays within what was written: a fresh labelmap reads nothing, a click its region', () => {
    const seg = new Segmentation(geometry([40, 30, 20]));
    const label = seg.addSegment().label;
    expect(seg.nonZeroBox).toBeNull();
    const region: VoxelBox = { min: [5, 6, 7], max: [20, 21, 15] };
    seg.applyModelMask(label, ballMask(region, [12, 12, 10], 4));
    expectNonZeroInsideBox(seg);
    const box = seg.nonZeroBox!;
    expect(box.min.every((v, axis) => v >= region.min[axis]) && box.max.every((v, axis) => v <= region.max[axis])).toBe(true);
  });

  it('a null model result changes only the points', () => {
    const seg = new Segmentation(geometry([10, 10, 10]));
    const a = seg.addSegment().label;
    seg.beginStroke(a, false);
    seg.dab({ center: [0, 0, 0], radiusMm: 1, shape: { kind: 'sphere' } });
    seg.endStroke();
    const before = seg.labels.slice();
    seg.applyModelMask(a, null, { points: [{ index: [5, 5, 5], positive: true }] });
    expectSameBytes(seg.labels, before);
    expect(seg.segment(a)?.points).toHaveLength(1);
    seg.undo();
    expect(seg.segment(a)?.points).toHaveLength(0);
  });

  it('a new edit after undo discards the redo branch', () => {
    const seg = new Segmentation(geometry([10, 10, 10]));
    const a = seg.addSegment().label;
    seg.applyModelMask(a, ballMask({ min: [0, 0, 0], max: [9, 9, 9] }, [5, 5, 5], 3));
    seg.undo();
    seg.updateSegment(a, { name: 'x' });
    expect(seg.canRedo).toBe(false);
  });

  it('deleting a segment clears its voxels; undo brings back voxels and row', () => {
    const seg = new Segmentation(geometry([20, 20, 20]));
    const a = seg.addSegment().label;
    const b = seg.addSegment().label;
    seg.applyModelMask(a, ballMask({ min: [0, 0, 0], max: [19, 19, 19] }, [6, 6, 6], 4));
    seg.applyModelMask(b, ballMask({ min: [0, 0, 0], max: [19, 19, 19] }, [14, 14, 14], 4));
    const before = seg.labels.slice();
    seg.deleteSegment(a);
    expect(seg.labels.includes(a)).toBe(false);
    expect(seg.voxelCount(b)).toBe(histogram(before)[b]);
    seg.undo();
    expectSameBytes(seg.labels, before);
    expect(seg.segment(a)).toBeDefined();
  });
});

describe('brush and eraser', () => {
  const spacing: Vec3 = [0.7, 0.7, 3];
  const size: Vec3 = [60, 60, 20];

  function expectedBall(center: Vec3, radius: number, flatAxis: number | null): Set<number> {
    const voxels = new Set<number>();
    for (let k = 0; k < size[2]; k++)
      for (let j = 0; j < size[1]; j++)
        for (let i = 0; i < size[0]; i++) {
          const d = [i - center[0], j - center[1], k - center[2]];
          if (flatAxis !== null && d[flatAxis] !== 0) continue;
          const dist2 = d.reduce((sum, v, a) => sum + (v * spacing[a]) ** 2, 0);
          if (dist2 <= radius * radius) voxels.add(i + size[0] * (j + size[1] * k));
        }
    return voxels;
  }

  function brushVoxels(dab: BrushDab): Set<number> {
    const voxels = new Set<number>();
    forEachBrushSpan(size, spacing, dab, (j, k, i0, i1) => {
      for (let i = i0; i <= i1; i++) voxels.add(i + size[0] * (j + size[1] * k));
    });
    return voxels;
  }

  it('paints a sphere and discs in mm on an anisotropic grid', () => {
    const center: Vec3 = [30, 28, 10];
    const sphere = brushVoxels({ center, radiusMm: 7, shape: { kind: 'sphere' } });
    expect(sphere).toEqual(expectedBall(center, 7, null));
    // 7 mm reaches 10 voxels along i and j but only 2 along k.
    const ks = new Set([...sphere].map((o) => Math.floor(o / (size[0] * size[1]))));
    expect([...ks].sort((x, y) => x - y)).toEqual([8, 9, 10, 11, 12]);
    for (const axis of [0, 1, 2] as const) {
      const disc = brushVoxels({ center, radiusMm: 7, shape: { kind: 'disc', normalAxis: axis } });
      expect(disc).toEqual(expectedBall(center, 7, axis));
    }
    // A brush smaller than a voxel still paints the voxel under the cursor; the centre snaps to the nearest voxel.
    expect(brushVoxels({ center: [3.4, 4.6, 0.2], radiusMm: 0.1, shape: { kind: 'sphere' } })).toEqual(new Set([3 + size[0] * 5]));
    // Clipped at the grid border.
    const corner = brushVoxels({ center: [0, 0, 0], radiusMm: 3, shape: { kind: 'sphere' } });
    expect(corner).toEqual(expectedBall([0, 0, 0], 3, null));
  });

  it('a stroke is one undo step; the eraser clears only the active segment', () => {
    const seg = new Segmentation(geometry(size, spacing));
    const a = seg.addSegment().label;
    const b = seg.addSegment().label;
    const boxes: (VoxelBox | null)[] = [];
    seg.subscribe((change) => boxes.push(change.box));
    seg.beginStroke(b, false);
    seg.dab({ center: [20, 20, 10], radiusMm: 5, shape: { kind: 'sphere' } });
    seg.endStroke();
    // The dab is announced as it is painted; the end of the stroke changes no voxel.
    expect(boxes).toHaveLength(2);
    expect(boxes[0]).not.toBeNull();
    expect(boxes[1]).toBeNull();
    const afterB = seg.labels.slice();
    seg.beginStroke(a, false);
    for (let x = 10; x <= 40; x += 2) seg.dab({ center: [x, 30, 10], radiusMm: 4, shape: { kind: 'disc', normalAxis: 2 } });
    seg.endStroke();
    const afterA = seg.labels.slice();
    // Painting claims voxels of other segments under the brush.
    expect(seg.labels[20 + 60 * (30 + 60 * 10)]).toBe(a);
    expect(seg.labels[20 + 60 * (20 + 60 * 10)]).toBe(b);
    seg.beginStroke(a, true);
    seg.dab({ center: [20, 26, 10], radiusMm: 10, shape: { kind: 'sphere' } });
    seg.endStroke();
    const erased = expectedBall([20, 26, 10], 10, null);
    for (const o of erased) expect(seg.labels[o]).not.toBe(a);
    expect(seg.labels[20 + 60 * (20 + 60 * 10)]).toBe(b);
    expect(seg.voxelCount(b)).toBe(histogram(seg.labels)[b]);
    expect(seg.undo()).toBe(true);
    expectSameBytes(seg.labels, afterA);
    expect(seg.undo()).toBe(true);
    expectSameBytes(seg.labels, afterB);
    seg.redo();
    seg.redo();
    for (const o of erased) expect(seg.labels[o]).not.toBe(a);
  });
});

describe('volumes and memory', () => {
  it('volume in mL is voxel count times voxel volume, exact through random edits and undo/redo', () => {
    const spacing: Vec3 = [0.8, 0.8, 2.5];
    const seg = new Segmentation(geometry([50, 40, 30], spacing));
    const labels = [seg.addSegment().label, seg.addSegment().label, seg.addSegment().label];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const states: Uint8Array[] = [seg.labels.slice()];
    for (let step = 0; step < 30; step++) {
      const label = labels[Math.floor(random() * 3)];
      const center: Vec3 = [random() * 50, random() * 40, random() * 30];
      if (random() < 0.5) {
        seg.applyModelMask(label, ballMask({ min: [0, 0, 0], max: [49, 39, 29] }, center, 2 + random() * 8));
      } else {
        seg.beginStroke(label, random() < 0.3);
        seg.dab({ center, radiusMm: 1 + random() * 10, shape: random() < 0.5 ? { kind: 'sphere' } : { kind: 'disc', normalAxis: 1 } });
        seg.endStroke();
      }
      // Steps that changed nothing (erasing empty space) leave no undo step.
      if (seg.labels.every((v, n) => v === states.at(-1)![n])) continue;
      states.push(seg.labels.slice());
    }
    const check = () => {
      expectNonZeroInsideBox(seg);
      const counts = histogram(seg.labels);
      for (const label of [0, ...labels]) {
        expect(seg.voxelCount(label)).toBe(counts[label]);
        expect(seg.volumeMl(label)).toBeCloseTo((counts[label] * 0.8 * 0.8 * 2.5) / 1000, 10);
      }
    };
    check();
    expect(states.length).toBeGreaterThan(20);
    // Undo and redo exchange a step's values with the labelmap's: twice over, with coding in between.
    for (let round = 0; round < 2; round++) {
      for (let n = states.length - 2; n >= 0; n--) {
        seg.undo();
        seg.compactHistory(0);
        expectSameBytes(seg.labels, states[n]);
      }
      check();
      for (let n = 1; n < states.length; n++) {
        seg.redo();
        if (n % 2) seg.compactHistory(0);
        expectSameBytes(seg.labels, states[n]);
      }
      check();
    }
  });

  it('stores changed regions run-length coded and stays within its memory budget', () => {
    const size: Vec3 = [256, 256, 256];
    const budget = 256 * 1024;
    const seg = new Segmentation(geometry(size), { historyBudgetBytes: budget });
    const a = seg.addSegment().label;
    seg.applyModelMask(a, ballMask({ min: [0, 0, 0], max: [255, 255, 255] }, [128, 128, 128], 40));
    // A model result is kept raw at first (applied without delay), then coded in time slices.
    expect(seg.historyNeedsCompaction).toBe(true);
    // A bit per voxel of the box: which voxels the step moved between 0 and the segment's label.
    expect(seg.historyBytes).toBeGreaterThan(256 ** 3 / 8);
    expect(seg.historyBytes).toBeLessThan(256 ** 3 / 8 + 4096);
    let slices = 1;
    while (seg.compactHistory(0)) slices++;
    expect(slices).toBeGreaterThan(1);
    // A 16 MB labelmap change (256^3 box) is kept in a few tens of kB.
    expect(seg.historyBytes).toBeLessThan(100_000);
    for (let n = 0; n < 40; n++) {
      seg.applyModelMask(a, ballMask({ min: [0, 0, 0], max: [127, 127, 127] }, [64, 64, 64], 20 + (n % 2) * 20));
      while (seg.compactHistory(50));
      expect(seg.historyBytes).toBeLessThanOrEqual(budget);
    }
    // The oldest steps were forgotten, the latest still undo exactly.
    const latest = seg.labels.slice();
    seg.undo();
    seg.redo();
    expectSameBytes(seg.labels, latest);
    let undos = 0;
    while (seg.undo()) undos++;
    expect(undos).toBeLessThan(42);
    expect(undos).toBeGreaterThan(1);
  });

  it('keeps the newest step undoable even when it alone exceeds the budget', () => {
    const seg = new Segmentation(geometry([64, 64, 64]), { historyBudgetBytes: 1024 });
    const a = seg.addSegment().label;
    const region = { min: [0, 0, 0] as Vec3, max: [63, 63, 63] as Vec3 };
    const noisy = new Uint8Array(64 ** 3).map((_, n) => ((n * 7919) % 3 === 0 ? 1 : 0));
    seg.applyModelMask(a, { region, mask: noisy });
    // Clearing the noise toggles noise: its bits code into more bytes than they have, so they stay
    // raw, as do the first step's.
    seg.applyModelMask(a, { region, mask: new Uint8Array(64 ** 3) });
    while (seg.compactHistory(50));
    const after = seg.labels.slice();
    expect(seg.historyBytes).toBeGreaterThan(64 ** 3 / 8);
    expect(seg.historyBytes).toBeLessThan(2 * (64 ** 3 / 8) + 4096);
    seg.beginStroke(a, false);
    seg.dab({ center: [5, 5, 5], radiusMm: 1, shape: { kind: 'sphere' } });
    seg.endStroke();
    // The big step was forgotten for the small newer one: memory is back under the budget.
    expect(seg.historyBytes).toBeLessThanOrEqual(1024);
    expect(seg.undo()).toBe(true);
    expectSameBytes(seg.labels, after);
    expect(seg.undo()).toBe(false);
  });
});
