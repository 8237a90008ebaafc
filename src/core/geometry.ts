/**
 * The one geometry module: index <-> world conversions, anatomical orientation,
 * display-plane layout (radiological convention) and the canonical RAS+ axis permutation.
 * Conventions are those of ./types.ts (LPS world, column-major direction, i-fastest buffers).
 */
import type { ImageGeometry, Mat3, Vec3 } from './types';

export type IndexAxis = 0 | 1 | 2;
/** 4x4 homogeneous matrix, column-major (gl-matrix / vtk.js layout): m[4 * c + r]. */
// prettier-ignore
export type Mat4 = [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];

// ---------------------------------------------------------------------------
// Small matrix helpers (3x3, column-major)

/** Column c of a column-major 3x3 matrix (the world direction of index axis c). */
export function directionColumn(direction: Mat3, c: IndexAxis): Vec3 {
  return [direction[3 * c], direction[3 * c + 1], direction[3 * c + 2]];
}

export function determinant3(m: Mat3): number {
  const [a, b, c, d, e, f, g, h, i] = m; // columns (a,b,c), (d,e,f), (g,h,i)
  return a * (e * i - f * h) - d * (b * i - c * h) + g * (b * f - c * e);
}

/** Inverse of a column-major 3x3 matrix; throws on a singular matrix. */
export function invert3(m: Mat3): Mat3 {
  const det = determinant3(m);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error('singular 3x3 matrix');
  const [a, b, c, d, e, f, g, h, i] = m;
  // Adjugate / det, written column-major.
  return [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
}

function multiply3Vec(m: Mat3, v: Vec3): Vec3 {
  return [m[0] * v[0] + m[3] * v[1] + m[6] * v[2], m[1] * v[0] + m[4] * v[1] + m[7] * v[2], m[2] * v[0] + m[5] * v[1] + m[8] * v[2]];
}

/** direction * diag(spacing): maps an index step to a world step (column-major). */
function scaledDirection(g: ImageGeometry): Mat3 {
  const d = g.direction;
  const s = g.spacing;
  return [d[0] * s[0], d[1] * s[0], d[2] * s[0], d[3] * s[1], d[4] * s[1], d[5] * s[1], d[6] * s[2], d[7] * s[2], d[8] * s[2]];
}

// ---------------------------------------------------------------------------
// Index <-> world

/** World (LPS mm) position of a continuous index (voxel centres at integers). */
export function indexToWorld(g: ImageGeometry, ijk: Vec3): Vec3 {
  const step = multiply3Vec(scaledDirection(g), ijk);
  return [g.origin[0] + step[0], g.origin[1] + step[1], g.origin[2] + step[2]];
}

/** Continuous index of a world (LPS mm) position; round it to get the voxel. */
export function worldToIndex(g: ImageGeometry, xyz: Vec3): Vec3 {
  const inverse = invert3(scaledDirection(g));
  return multiply3Vec(inverse, [xyz[0] - g.origin[0], xyz[1] - g.origin[1], xyz[2] - g.origin[2]]);
}

/** Homogeneous index -> world matrix (column-major 4x4). */
export function indexToWorldMatrix(g: ImageGeometry): Mat4 {
  const m = scaledDirection(g);
  return [m[0], m[1], m[2], 0, m[3], m[4], m[5], 0, m[6], m[7], m[8], 0, g.origin[0], g.origin[1], g.origin[2], 1];
}

/** Homogeneous world -> index matrix (column-major 4x4), the inverse of indexToWorldMatrix. */
export function worldToIndexMatrix(g: ImageGeometry): Mat4 {
  const inv = invert3(scaledDirection(g));
  const t = multiply3Vec(inv, g.origin);
  return [inv[0], inv[1], inv[2], 0, inv[3], inv[4], inv[5], 0, inv[6], inv[7], inv[8], 0, -t[0], -t[1], -t[2], 1];
}

export function voxelCount(g: ImageGeometry): number {
  return g.size[0] * g.size[1] * g.size[2];
}

/** Buffer step along each index axis of an i-fastest buffer. */
export function voxelStrides(size: Vec3): Vec3 {
  return [1, size[0], size[0] * size[1]];
}

/** Buffer offset of integer voxel (i, j, k) in an i-fastest buffer. */
export function voxelOffset(size: Vec3, i: number, j: number, k: number): number {
  return i + size[0] * (j + size[1] * k);
}

/** Integer voxel (i, j, k) of an offset in an i-fastest buffer: the inverse of voxelOffset. */
export function voxelIndex(size: Vec3, offset: number): Vec3 {
  const i = offset % size[0];
  const rest = (offset - i) / size[0];
  const j = rest % size[1];
  return [i, j, (rest - j) / size[1]];
}

/** True when the integer voxel index lies inside the image. */
export function isInside(size: Vec3, ijk: Vec3): boolean {
  return ijk.every((v, axis) => v >= 0 && v <= size[axis] - 1);
}

// ---------------------------------------------------------------------------
// Validation

/** Why a geometry cannot be used, or null when it is fine. Messages are user-facing. */
export function geometryProblem(g: ImageGeometry): string | null {
  const names = ['x', 'y', 'z'];
  for (let a = 0; a < 3; a++) {
    const n = g.size[a];
    if (!Number.isInteger(n) || n < 1) return `image size along ${names[a]} is ${n} (must be a positive integer)`;
    const s = g.spacing[a];
    if (!Number.isFinite(s)) return `voxel spacing along ${names[a]} is not a number (${s})`;
    if (s === 0) return `voxel spacing along ${names[a]} is zero`;
    if (s < 0) return `voxel spacing along ${names[a]} is negative (${s})`;
    if (!Number.isFinite(g.origin[a])) return `image origin is not a finite number`;
  }
  if (!g.direction.every(Number.isFinite)) return 'direction matrix contains non-numbers';
  if (Math.abs(determinant3(g.direction)) < 1e-6) return 'direction matrix is singular (axes are not independent)';
  return null;
}

// ---------------------------------------------------------------------------
// Anatomical orientation (LPS world: +x = L, +y = P, +z = S)

export type AnatomicalLetter = 'L' | 'R' | 'P' | 'A' | 'S' | 'I';
export type WorldAxis = 0 | 1 | 2;

/** Letter of the world axis w followed in direction sign (LPS world). */
export function anatomicalLetter(worldAxis: WorldAxis, sign: 1 | -1): AnatomicalLetter {
  const positive: AnatomicalLetter[] = ['L', 'P', 'S'];
  const negative: AnatomicalLetter[] = ['R', 'A', 'I'];
  return sign > 0 ? positive[worldAxis] : negative[worldAxis];
}

const OPPOSITE: Record<AnatomicalLetter, AnatomicalLetter> = { L: 'R', R: 'L', P: 'A', A: 'P', S: 'I', I: 'S' };
export function oppositeLetter(letter: AnatomicalLetter): AnatomicalLetter {
  return OPPOSITE[letter];
}

/** How one index axis lies in the patient. */
export interface AxisOrientation {
  /** World axis (0 = x L/R, 1 = y P/A, 2 = z S/I) closest to this index axis. */
  worldAxis: WorldAxis;
  /** +1 when increasing index moves towards +world (L, P or S), -1 otherwise. */
  sign: 1 | -1;
  /** Direction of increasing index, e.g. 'L'. */
  letter: AnatomicalLetter;
  /** Direction of decreasing index, e.g. 'R'. */
  oppositeLetter: AnatomicalLetter;
}

/**
 * For each index axis the closest anatomical direction. The three world axes are assigned
 * one-to-one, the largest |direction| entry first, so heavily oblique axes never share a world
 * axis (nibabel takes the index axes in order instead: see canonicalRasPermutation).
 */
export function orientationLetters(g: ImageGeometry): [AxisOrientation, AxisOrientation, AxisOrientation] {
  const entries: { c: IndexAxis; r: WorldAxis; value: number }[] = [];
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < 3; r++) entries.push({ c: c as IndexAxis, r: r as WorldAxis, value: g.direction[3 * c + r] });
  }
  entries.sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  const result: (AxisOrientation | undefined)[] = [undefined, undefined, undefined];
  const usedWorld = new Set<number>();
  for (const { c, r, value } of entries) {
    if (result[c] || usedWorld.has(r)) continue;
    const sign = value < 0 ? -1 : 1;
    const letter = anatomicalLetter(r, sign);
    result[c] = { worldAxis: r, sign, letter, oppositeLetter: OPPOSITE[letter] };
    usedWorld.add(r);
  }
  return result as [AxisOrientation, AxisOrientation, AxisOrientation];
}

/** Three-letter orientation code of the index axes, e.g. 'LPS' (ITK/DICOM style: direction of increase). */
export function orientationCode(g: ImageGeometry): string {
  return orientationLetters(g)
    .map((o) => o.letter)
    .join('');
}

/**
 * Anatomical label of a world direction: the dominant letter first, then the letters of other
 * components that are at least `minFraction` of the largest one (so an axial image rotated by
 * 30 degrees shows 'LP' at its right edge, a straight one just 'L').
 */
export function directionLabel(v: Vec3, minFraction = 0.25): string {
  const largest = Math.max(Math.abs(v[0]), Math.abs(v[1]), Math.abs(v[2]));
  if (largest === 0) return '';
  return ([0, 1, 2] as WorldAxis[])
    .filter((a) => Math.abs(v[a]) >= minFraction * largest)
    .sort((a, b) => Math.abs(v[b]) - Math.abs(v[a]))
    .map((a) => anatomicalLetter(a, v[a] < 0 ? -1 : 1))
    .join('');
}

// ---------------------------------------------------------------------------
// Display planes (radiological convention)

export type ViewPlane = 'axial' | 'coronal' | 'sagittal';

/** An index axis shown along a screen direction. */
export interface ScreenAxis {
  indexAxis: IndexAxis;
  /** +1: increasing index goes towards screen right (or up); -1: towards left (or down). */
  sign: 1 | -1;
}

export interface PlaneLayout {
  plane: ViewPlane;
  /** Index axis closest to the plane normal: the slice axis stepped by the wheel. */
  normalAxis: IndexAxis;
  /** Index axis drawn horizontally and which way it increases. */
  right: ScreenAxis;
  /** Index axis drawn vertically and which way it increases. */
  up: ScreenAxis;
  /** Letters at the four screen edges, e.g. axial LPS: left 'R', right 'L', top 'A', bottom 'P'. */
  edgeLetters: { left: string; right: string; top: string; bottom: string };
}

/**
 * Screen conventions in LPS world vectors: normal world axis, the world direction shown to the
 * right and the one shown up. Axial: patient left on screen right, anterior up. Coronal: left on
 * right, superior up. Sagittal: anterior on the left (so posterior right), superior up.
 */
const PLANE_CONVENTION: Record<ViewPlane, { normal: WorldAxis; right: Vec3; up: Vec3 }> = {
  axial: { normal: 2, right: [1, 0, 0], up: [0, -1, 0] },
  coronal: { normal: 1, right: [1, 0, 0], up: [0, 0, 1] },
  sagittal: { normal: 0, right: [0, 1, 0], up: [0, 0, 1] },
};

export function dot(a: readonly number[], b: readonly number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/**
 * Triangle `n` of a mesh (flat xyz `positions`, vertex indices in threes): its edges from the
 * first vertex crossed, a normal that follows the winding and is twice the triangle's area long.
 */
export function triangleNormal(positions: ArrayLike<number>, triangles: ArrayLike<number>, n: number): Vec3 {
  const p = positions;
  const [a, b, c] = [3 * triangles[3 * n], 3 * triangles[3 * n + 1], 3 * triangles[3 * n + 2]];
  return cross([p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2]], [p[c] - p[a], p[c + 1] - p[a + 1], p[c + 2] - p[a + 2]]);
}

/**
 * How to draw a plane of the image in index space (slices along index axes, pixels with their
 * physical aspect). The three planes use distinct index axes as normals (orientationLetters'
 * one-to-one assignment); each in-plane axis goes to the screen direction it is closest to.
 */
export function planeLayout(g: ImageGeometry, plane: ViewPlane): PlaneLayout {
  const convention = PLANE_CONVENTION[plane];
  const orientation = orientationLetters(g);
  const normalAxis = orientation.findIndex((o) => o.worldAxis === convention.normal) as IndexAxis;
  const [a, b] = ([0, 1, 2] as IndexAxis[]).filter((axis) => axis !== normalAxis);
  const dirA = directionColumn(g.direction, a);
  const dirB = directionColumn(g.direction, b);
  // Assign to right/up the pairing with the larger total alignment.
  const straight = Math.abs(dot(dirA, convention.right)) + Math.abs(dot(dirB, convention.up));
  const swapped = Math.abs(dot(dirB, convention.right)) + Math.abs(dot(dirA, convention.up));
  const [rightAxis, upAxis] = straight >= swapped ? [a, b] : [b, a];
  const rightDir = directionColumn(g.direction, rightAxis);
  const upDir = directionColumn(g.direction, upAxis);
  const rightSign: 1 | -1 = dot(rightDir, convention.right) < 0 ? -1 : 1;
  const upSign: 1 | -1 = dot(upDir, convention.up) < 0 ? -1 : 1;
  const scale = (v: Vec3, s: number): Vec3 => [v[0] * s, v[1] * s, v[2] * s];
  return {
    plane,
    normalAxis,
    right: { indexAxis: rightAxis, sign: rightSign },
    up: { indexAxis: upAxis, sign: upSign },
    edgeLetters: {
      right: directionLabel(scale(rightDir, rightSign)),
      left: directionLabel(scale(rightDir, -rightSign)),
      top: directionLabel(scale(upDir, upSign)),
      bottom: directionLabel(scale(upDir, -upSign)),
    },
  };
}

// ---------------------------------------------------------------------------
// Canonical RAS+ axis permutation (resample.ts reorients with it)

/**
 * Reorientation by permuting and flipping index axes (no resampling).
 * New axis n takes old axis `axes[n]`, reversed when `flips[n]`.
 */
export interface AxisPermutation {
  axes: [IndexAxis, IndexAxis, IndexAxis];
  flips: [boolean, boolean, boolean];
}

/**
 * The permutation that makes index axes i, j, k point to R, A, S as closely as possible, chosen
 * exactly as nibabel's as_closest_canonical (torchio's ToCanonical, which made the SAM-Med3D
 * training data) does: index axes in order, each taking the free world axis it is most aligned
 * with (first one on ties). Strongly oblique images can get other axes than orientationLetters'.
 */
export function canonicalRasPermutation(g: ImageGeometry): AxisPermutation {
  const axes = [0, 0, 0] as [IndexAxis, IndexAxis, IndexAxis];
  const flips: [boolean, boolean, boolean] = [false, false, false];
  const used: WorldAxis[] = [];
  for (const oldAxis of [0, 1, 2] as IndexAxis[]) {
    const column = directionColumn(g.direction, oldAxis);
    const free = ([0, 1, 2] as WorldAxis[]).filter((w) => !used.includes(w));
    const world = free.reduce((best, w) => (Math.abs(column[w]) > Math.abs(column[best]) ? w : best));
    used.push(world);
    axes[world] = oldAxis;
    // RAS+ means towards -x (R), -y (A), +z (S) in LPS world.
    flips[world] = world === 2 ? column[world] < 0 : column[world] > 0;
  }
  return { axes, flips };
}
