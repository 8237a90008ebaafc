import { describe, expect, it } from 'vitest';
import {
  canonicalRasPermutation,
  directionLabel,
  geometryProblem,
  indexToWorld,
  indexToWorldMatrix,
  invert3,
  orientationCode,
  orientationLetters,
  planeLayout,
  worldToIndex,
  worldToIndexMatrix,
} from './geometry';
import type { ImageGeometry, Mat3, Vec3 } from './types';

const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
/** RAS-style voxel axes (e.g. a NIfTI from nibabel) expressed in LPS world: i -> R, j -> A, k -> S. */
const RAS_AXES: Mat3 = [-1, 0, 0, 0, -1, 0, 0, 0, 1];

/** Column-major rotation about world axis `axis` by `degrees`. */
function rotation(axis: 0 | 1 | 2, degrees: number): Mat3 {
  const c = Math.cos((degrees * Math.PI) / 180);
  const s = Math.sin((degrees * Math.PI) / 180);
  const [a, b] = [0, 1, 2].filter((x) => x !== axis);
  const m = [...IDENTITY] as Mat3;
  // Column a -> c e_a + s e_b, column b -> -s e_a + c e_b.
  m[3 * a + a] = c;
  m[3 * a + b] = s;
  m[3 * b + a] = -s;
  m[3 * b + b] = c;
  return m;
}

function multiply(m: Mat3, n: Mat3): Mat3 {
  const out = new Array(9).fill(0) as Mat3;
  for (let c = 0; c < 3; c++) for (let r = 0; r < 3; r++) for (let k = 0; k < 3; k++) out[3 * c + r] += m[3 * k + r] * n[3 * c + k];
  return out;
}

const OBLIQUE = multiply(rotation(2, 30), rotation(0, 20));

function geometry(direction: Mat3, spacing: Vec3 = [0.7, 1.3, 2.5], size: Vec3 = [20, 30, 12]): ImageGeometry {
  return { size, spacing, origin: [-12.5, 40.25, 101], direction };
}

const CASES: [string, ImageGeometry][] = [
  ['LPS identity, anisotropic', geometry(IDENTITY)],
  ['RAS-style axes (flipped x and y)', geometry(RAS_AXES)],
  ['oblique (30 deg about z, 20 deg about x)', geometry(OBLIQUE)],
  ['oblique and left-handed (k flipped)', geometry(multiply(OBLIQUE, [1, 0, 0, 0, 1, 0, 0, 0, -1]))],
  ['sagittal acquisition (i -> P, j -> I, k -> L)', geometry([0, 1, 0, 0, 0, -1, 1, 0, 0])],
];

function expectVecClose(actual: number[], expected: number[], digits = 9) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, n) => expect(v).toBeCloseTo(expected[n], digits));
}

describe('index <-> world', () => {
  it('follows world = origin + direction * spacing * index', () => {
    const g = geometry(IDENTITY);
    expectVecClose(indexToWorld(g, [0, 0, 0]), g.origin);
    expectVecClose(indexToWorld(g, [2, 3, 4]), [-12.5 + 1.4, 40.25 + 3.9, 101 + 10]);
    // RAS-style axes: increasing i goes to the patient's right, i.e. towards -x in LPS.
    expectVecClose(indexToWorld(geometry(RAS_AXES), [2, 0, 0]), [-12.5 - 1.4, 40.25, 101]);
    // Oblique: index step along i follows column 0 of the direction.
    const o = geometry(OBLIQUE);
    expectVecClose(
      indexToWorld(o, [1, 0, 0]),
      [0, 1, 2].map((r) => o.origin[r] + OBLIQUE[r] * 0.7),
    );
  });

  it.each(CASES)('round-trips index -> world -> index for %s', (_, g) => {
    for (const ijk of [
      [0, 0, 0],
      [19, 29, 11],
      [3.25, 17.5, 6.75],
      [-2, 40, 0.5],
    ] as Vec3[]) {
      expectVecClose(worldToIndex(g, indexToWorld(g, ijk)), ijk);
    }
  });

  it.each(CASES)('4x4 matrices agree with the functions and invert each other for %s', (_, g) => {
    const forward = indexToWorldMatrix(g);
    const backward = worldToIndexMatrix(g);
    const ijk: Vec3 = [4, 7, 9];
    const world = [0, 1, 2].map((r) => forward[r] * ijk[0] + forward[4 + r] * ijk[1] + forward[8 + r] * ijk[2] + forward[12 + r]);
    expectVecClose(world, indexToWorld(g, ijk));
    const back = [0, 1, 2].map((r) => backward[r] * world[0] + backward[4 + r] * world[1] + backward[8 + r] * world[2] + backward[12 + r]);
    expectVecClose(back, ijk);
    expect(forward[15]).toBe(1);
    expect(backward[15]).toBe(1);
  });

  it('inverts 3x3 matrices', () => {
    const m: Mat3 = [2, 0, 1, 1, 3, 0, 0, 1, 4];
    const product = multiply(m, invert3(m));
    expectVecClose(product, IDENTITY);
    expect(() => invert3([1, 2, 3, 2, 4, 6, 0, 0, 1])).toThrow(/singular/);
  });
});

describe('geometry validation', () => {
  it('accepts a good geometry and names each problem', () => {
    expect(geometryProblem(geometry(OBLIQUE))).toBeNull();
    expect(geometryProblem({ ...geometry(IDENTITY), spacing: [1, 0, 1] })).toMatch(/spacing along y is zero/);
    expect(geometryProblem({ ...geometry(IDENTITY), spacing: [1, 1, -2] })).toMatch(/spacing along z is negative/);
    expect(geometryProblem({ ...geometry(IDENTITY), spacing: [NaN, 1, 1] })).toMatch(/spacing along x is not a number/);
    expect(geometryProblem({ ...geometry(IDENTITY), size: [0, 4, 4] })).toMatch(/size along x/);
    expect(geometryProblem({ ...geometry(IDENTITY), direction: [1, 0, 0, 1, 0, 0, 0, 0, 1] })).toMatch(/singular/);
    expect(geometryProblem({ ...geometry(IDENTITY), origin: [0, Infinity, 0] })).toMatch(/origin/);
  });
});

describe('orientation letters', () => {
  it('names the direction of increasing index for each axis', () => {
    expect(orientationCode(geometry(IDENTITY))).toBe('LPS');
    expect(orientationCode(geometry(RAS_AXES))).toBe('RAS');
    expect(orientationCode(geometry([0, 1, 0, 0, 0, -1, 1, 0, 0]))).toBe('PIL');
    const letters = orientationLetters(geometry(RAS_AXES));
    expect(letters[0]).toEqual({ worldAxis: 0, sign: -1, letter: 'R', oppositeLetter: 'L' });
  });

  it('uses the closest direction for oblique volumes', () => {
    expect(orientationCode(geometry(OBLIQUE))).toBe('LPS');
    expect(orientationCode(geometry(rotation(2, 120)))).toBe('PRS');
    // 45 degrees: a tie between two world axes still gives a one-to-one assignment.
    const code = orientationCode(geometry(rotation(0, 45)));
    expect(new Set(code.split('').map((l) => 'LRPASI'.indexOf(l) >> 1)).size).toBe(3);
  });

  it('labels oblique directions with their secondary components', () => {
    expect(directionLabel([1, 0, 0])).toBe('L');
    expect(directionLabel([0.866, 0.5, 0])).toBe('LP');
    expect(directionLabel([-0.3, -0.9, 0.05])).toBe('AR');
    expect(directionLabel([0.99, 0.1, 0])).toBe('L');
  });
});

describe('plane layout (radiological convention)', () => {
  it('lays out an LPS volume: patient left on screen right, anterior and superior up', () => {
    const g = geometry(IDENTITY);
    expect(planeLayout(g, 'axial')).toEqual({
      plane: 'axial',
      normalAxis: 2,
      right: { indexAxis: 0, sign: 1 },
      up: { indexAxis: 1, sign: -1 },
      edgeLetters: { left: 'R', right: 'L', top: 'A', bottom: 'P' },
    });
    expect(planeLayout(g, 'coronal')).toMatchObject({
      normalAxis: 1,
      right: { indexAxis: 0, sign: 1 },
      up: { indexAxis: 2, sign: 1 },
      edgeLetters: { left: 'R', right: 'L', top: 'S', bottom: 'I' },
    });
    expect(planeLayout(g, 'sagittal')).toMatchObject({
      normalAxis: 0,
      right: { indexAxis: 1, sign: 1 },
      up: { indexAxis: 2, sign: 1 },
      edgeLetters: { left: 'A', right: 'P', top: 'S', bottom: 'I' },
    });
  });

  it('flips the screen axes of a RAS-style volume so anatomy stays put', () => {
    const axial = planeLayout(geometry(RAS_AXES), 'axial');
    expect(axial.right).toEqual({ indexAxis: 0, sign: -1 });
    expect(axial.up).toEqual({ indexAxis: 1, sign: 1 });
    expect(axial.edgeLetters).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  });

  it('finds the right index axes for a sagittally acquired volume', () => {
    // i -> P, j -> I, k -> L.
    const g = geometry([0, 1, 0, 0, 0, -1, 1, 0, 0]);
    expect(planeLayout(g, 'axial')).toMatchObject({ normalAxis: 1, right: { indexAxis: 2, sign: 1 }, up: { indexAxis: 0, sign: -1 } });
    expect(planeLayout(g, 'sagittal')).toMatchObject({ normalAxis: 2, right: { indexAxis: 0, sign: 1 }, up: { indexAxis: 1, sign: -1 } });
    expect(planeLayout(g, 'sagittal').edgeLetters).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' });
  });

  it('shows compound letters for an oblique volume', () => {
    const layout = planeLayout(geometry(rotation(2, 30)), 'axial');
    expect(layout.right).toEqual({ indexAxis: 0, sign: 1 });
    expect(layout.edgeLetters).toEqual({ left: 'RA', right: 'LP', top: 'AL', bottom: 'PR' });
  });
});

describe('canonical RAS permutation', () => {
  it('maps LPS axes to RAS by flipping i and j', () => {
    expect(canonicalRasPermutation(geometry(IDENTITY))).toEqual({ axes: [0, 1, 2], flips: [true, true, false] });
    expect(canonicalRasPermutation(geometry(RAS_AXES))).toEqual({ axes: [0, 1, 2], flips: [false, false, false] });
  });

  it('takes the index axes in order, as nibabel (torchio ToCanonical) does, for a strongly oblique image', () => {
    // i is closest to P (0.64), but j is closer still (0.7): largest-first would give P to j.
    const i: Vec3 = [0.6, 0.64, 0.48];
    const j: Vec3 = [-0.19767531, 0.7, -0.6862392]; // orthogonal to i, unit length to 1e-7
    const k: Vec3 = [i[1] * j[2] - i[2] * j[1], i[2] * j[0] - i[0] * j[2], i[0] * j[1] - i[1] * j[0]];
    // nibabel.io_orientation of this direction (in RAS): i -> -A, j -> -S, k -> +R.
    expect(canonicalRasPermutation(geometry([...i, ...j, ...k] as Mat3))).toEqual({ axes: [2, 0, 1], flips: [false, true, true] });
  });

  it('puts the voxel axes of a sagittal acquisition in R, A, S order', () => {
    const g = geometry([0, 1, 0, 0, 0, -1, 1, 0, 0]); // i -> P, j -> I, k -> L
    expect(canonicalRasPermutation(g)).toEqual({ axes: [2, 0, 1], flips: [true, true, true] });
  });
});
