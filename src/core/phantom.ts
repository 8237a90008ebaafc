/**
 * Synthetic phantoms: the bundled CT-like demo volume, and simple shapes for tests.
 * Shapes are defined in world (LPS mm) coordinates, so the same object lands at the same place
 * whatever the grid's orientation, spacing or obliquity: tests can compare results across grids.
 */
import { indexToWorld, indexToWorldMatrix, voxelCount, voxelOffset, worldToIndex } from './geometry';
import type { ImageGeometry, Mat3, Vec3, Volume } from './types';

/** A shape in world (LPS mm) coordinates; `value` is what makeShapePhantom paints inside it. */
export type PhantomShape =
  /** Axis-aligned (in world) ellipsoid. */
  | { kind: 'ellipsoid'; center: Vec3; radii: Vec3; value: number }
  /** Elliptic cylinder along the world z axis (S/I), `halfLength` mm above and below `center`. */
  | { kind: 'cylinder'; center: Vec3; radii: [number, number]; halfLength: number; value: number }
  /** Axis-aligned (in world) box. */
  | { kind: 'box'; center: Vec3; halfSize: Vec3; value: number }
  /** Round tube of `radius` mm around a polyline (a curved vessel when given many points). */
  | { kind: 'tube'; points: Vec3[]; radius: number; value: number };

function shapeBounds(shape: PhantomShape): [Vec3, Vec3] {
  const around = (c: Vec3, h: Vec3): [Vec3, Vec3] => [
    [c[0] - h[0], c[1] - h[1], c[2] - h[2]],
    [c[0] + h[0], c[1] + h[1], c[2] + h[2]],
  ];
  switch (shape.kind) {
    case 'ellipsoid':
      return around(shape.center, shape.radii);
    case 'cylinder':
      return around(shape.center, [shape.radii[0], shape.radii[1], shape.halfLength]);
    case 'box':
      return around(shape.center, shape.halfSize);
    case 'tube': {
      const r = shape.radius;
      const lo = [0, 1, 2].map((a) => Math.min(...shape.points.map((p) => p[a])) - r) as Vec3;
      const hi = [0, 1, 2].map((a) => Math.max(...shape.points.map((p) => p[a])) + r) as Vec3;
      return [lo, hi];
    }
  }
}

/** Squared distance from p to segment ab. */
function segmentDistance2(p: Vec3, a: Vec3, b: Vec3): number {
  const ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const ap = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
  const length2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
  const t = length2 > 0 ? Math.max(0, Math.min(1, (ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / length2)) : 0;
  const d = [ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]];
  return d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
}

function insideTest(shape: PhantomShape): (p: Vec3) => boolean {
  switch (shape.kind) {
    case 'ellipsoid': {
      const { center: c, radii: r } = shape;
      return (p) => ((p[0] - c[0]) / r[0]) ** 2 + ((p[1] - c[1]) / r[1]) ** 2 + ((p[2] - c[2]) / r[2]) ** 2 <= 1;
    }
    case 'cylinder': {
      const { center: c, radii: r, halfLength } = shape;
      return (p) => Math.abs(p[2] - c[2]) <= halfLength && ((p[0] - c[0]) / r[0]) ** 2 + ((p[1] - c[1]) / r[1]) ** 2 <= 1;
    }
    case 'box': {
      const { center: c, halfSize: h } = shape;
      return (p) => Math.abs(p[0] - c[0]) <= h[0] && Math.abs(p[1] - c[1]) <= h[1] && Math.abs(p[2] - c[2]) <= h[2];
    }
    case 'tube': {
      const { points, radius } = shape;
      const r2 = radius * radius;
      return (p) => {
        for (let s = 0; s + 1 < points.length; s++) if (segmentDistance2(p, points[s], points[s + 1]) <= r2) return true;
        return points.length === 1 && segmentDistance2(p, points[0], points[0]) <= r2;
      };
    }
  }
}

/** A geometry whose voxel grid is centred on world (0, 0, 0). */
export function centredGeometry(size: Vec3, spacing: Vec3, direction: Mat3): ImageGeometry {
  const g: ImageGeometry = { size, spacing, origin: [0, 0, 0], direction };
  const centre = indexToWorld(g, [(size[0] - 1) / 2, (size[1] - 1) / 2, (size[2] - 1) / 2]);
  return { ...g, origin: [-centre[0], -centre[1], -centre[2]] };
}

/**
 * Calls `visit(offset)` for every voxel whose centre lies inside the shape (offset into the
 * i-fastest buffer). Only the shape's bounding box in index space is scanned.
 */
export function forEachVoxelInShape(geometry: ImageGeometry, shape: PhantomShape, visit: (offset: number) => void): void {
  const [lo, hi] = shapeBounds(shape);
  const first: Vec3 = [Infinity, Infinity, Infinity];
  const last: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let corner = 0; corner < 8; corner++) {
    const world: Vec3 = [corner & 1 ? hi[0] : lo[0], corner & 2 ? hi[1] : lo[1], corner & 4 ? hi[2] : lo[2]];
    const index = worldToIndex(geometry, world);
    for (let a = 0; a < 3; a++) {
      first[a] = Math.min(first[a], Math.max(0, Math.floor(index[a])));
      last[a] = Math.max(last[a], Math.min(geometry.size[a] - 1, Math.ceil(index[a])));
    }
  }
  const inside = insideTest(shape);
  const m = indexToWorldMatrix(geometry);
  const p: Vec3 = [0, 0, 0];
  for (let k = first[2]; k <= last[2]; k++) {
    for (let j = first[1]; j <= last[1]; j++) {
      const row = voxelOffset(geometry.size, 0, j, k);
      for (let i = first[0]; i <= last[0]; i++) {
        p[0] = m[12] + m[0] * i + m[4] * j + m[8] * k;
        p[1] = m[13] + m[1] * i + m[5] * j + m[9] * k;
        p[2] = m[14] + m[2] * i + m[6] * j + m[10] * k;
        if (inside(p)) visit(row + i);
      }
    }
  }
}

/** A float volume with each shape's value painted in order (later shapes overwrite earlier ones). */
export function makeShapePhantom(geometry: ImageGeometry, shapes: PhantomShape[], background = 0): Volume<Float32Array> {
  const data = new Float32Array(voxelCount(geometry)).fill(background);
  for (const shape of shapes) forEachVoxelInShape(geometry, shape, (offset) => (data[offset] = shape.value));
  return { geometry, data };
}

/** Label volume of the shapes: shape n (0-based) is painted n + 1, later shapes on top. */
export function makeShapeLabels(geometry: ImageGeometry, shapes: PhantomShape[]): Volume<Uint8Array> {
  const data = new Uint8Array(voxelCount(geometry));
  shapes.forEach((shape, n) => forEachVoxelInShape(geometry, shape, (offset) => (data[offset] = n + 1)));
  return { geometry, data };
}

// ---------------------------------------------------------------------------
// The demo phantom

export interface PhantomOrgan {
  label: number;
  name: string;
  /** Mean intensity (HU). */
  hu: number;
  /** Display colour, 0-255. */
  color: [number, number, number];
}

export interface DemoPhantom {
  volume: Volume<Int16Array>;
  /** Ground-truth labels of the organs (0 = none). */
  labels: Volume<Uint8Array>;
  organs: PhantomOrgan[];
}

export interface DemoPhantomOptions {
  size?: Vec3;
  spacing?: Vec3;
  /** Direction matrix (column-major); default identity (LPS voxel axes). */
  direction?: Mat3;
  /** Noise seed (same seed, same volume). */
  seed?: number;
  /** Standard deviation of the noise in HU. */
  noise?: number;
}

const AIR = -1000;
const FAT = -100;
const SOFT_TISSUE = 40;
const BONE = 700;
const MARKER = 1200;

/** Organs of the demo: world mm, LPS (+x = patient left, +y = posterior, +z = superior). */
const ORGANS: { organ: PhantomOrgan; shape: PhantomShape }[] = [
  organ(1, 'Liver', 60, [221, 130, 101], { kind: 'ellipsoid', center: [-35, -5, 20], radii: [38, 32, 42] }),
  organ(2, 'Spleen', 50, [157, 108, 162], { kind: 'ellipsoid', center: [52, 25, 35], radii: [14, 20, 24] }),
  organ(3, 'Left kidney', 150, [185, 102, 83], { kind: 'ellipsoid', center: [38, 38, -20], radii: [12, 13, 26] }),
  organ(4, 'Right kidney', 150, [185, 102, 83], { kind: 'ellipsoid', center: [-38, 38, -35], radii: [12, 13, 26] }),
  organ(5, 'Aorta', 200, [224, 97, 76], { kind: 'cylinder', center: [10, 22, -10], radii: [9, 9], halfLength: 90 }),
  organ(6, 'Bladder', 10, [222, 154, 132], { kind: 'ellipsoid', center: [0, -15, -92], radii: [26, 20, 18] }),
  organ(7, 'Right lung', -800, [197, 165, 145], { kind: 'ellipsoid', center: [-40, 5, 88], radii: [30, 38, 30] }),
  organ(8, 'Left lung', -800, [197, 165, 145], { kind: 'ellipsoid', center: [42, 10, 90], radii: [24, 32, 26] }),
  organ(9, 'Spine', BONE, [241, 214, 145], { kind: 'cylinder', center: [0, 42, 0], radii: [13, 12], halfLength: 120 }),
  organ(10, 'Liver lesion', 110, [255, 255, 0], { kind: 'ellipsoid', center: [-48, -12, 28], radii: [8, 8, 8] }),
];

/** A shape before its value is set (Omit applied to each member of the union). */
type ShapeOutline = PhantomShape extends infer S ? (S extends PhantomShape ? Omit<S, 'value'> : never) : never;

function organ(
  label: number,
  name: string,
  hu: number,
  color: [number, number, number],
  shape: ShapeOutline,
): { organ: PhantomOrgan; shape: PhantomShape } {
  return { organ: { label, name, hu, color }, shape: { ...shape, value: hu } as PhantomShape };
}

/** Body, ribs and the asymmetric orientation markers (no labels). */
function bodyShapes(): { before: PhantomShape[]; after: PhantomShape[] } {
  const ribs: PhantomShape[] = [];
  for (let z = -10; z <= 100; z += 22) {
    ribs.push({ kind: 'cylinder', center: [0, 0, z], radii: [76, 56], halfLength: 4, value: BONE });
  }
  return {
    before: [
      { kind: 'cylinder', center: [0, 0, 0], radii: [86, 66], halfLength: 112, value: FAT },
      ...ribs,
      { kind: 'cylinder', center: [0, 0, 0], radii: [72, 52], halfLength: 112, value: SOFT_TISSUE },
    ],
    after: [
      // Spinal canal inside the spine.
      { kind: 'cylinder', center: [0, 45, 0], radii: [5, 5], halfLength: 120, value: 15 },
      // Skin marker on the patient's LEFT only.
      { kind: 'ellipsoid', center: [86, 0, 0], radii: [6, 6, 6], value: MARKER },
      // Notch in the ANTERIOR body wall, all along z.
      { kind: 'box', center: [0, -63, 0], halfSize: [6, 6, 120], value: AIR },
      // Bar across the SUPERIOR end, in the front half only (also marks anterior in sagittal views).
      {
        kind: 'tube',
        points: [
          [-60, -20, 106],
          [60, -20, 106],
        ],
        radius: 4,
        value: MARKER,
      },
    ],
  };
}

/** Small, fast, seeded PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The bundled demo: an abdomen/lower-chest-like CT (HU) with organs, spine, ribs and markers
 * that make orientation errors visible: a bright bead on the patient's left, a notch in the
 * anterior wall, a bar at the superior end in front, the right kidney lower than the left.
 * Deterministic for a given seed. Default 160 x 160 x 120 voxels of 1.2 x 1.2 x 2.0 mm, centred
 * on the world origin.
 */
export function makeDemoPhantom(options: DemoPhantomOptions = {}): DemoPhantom {
  const size = options.size ?? [160, 160, 120];
  const spacing = options.spacing ?? [1.2, 1.2, 2.0];
  const direction = options.direction ?? [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const geometry = centredGeometry([...size], [...spacing], [...direction]);
  const voxels = voxelCount(geometry);
  const hu = new Float32Array(voxels).fill(AIR);
  const labels = new Uint8Array(voxels);
  const { before, after } = bodyShapes();
  for (const shape of before) forEachVoxelInShape(geometry, shape, (o) => (hu[o] = shape.value));
  for (const { organ: info, shape } of ORGANS) {
    forEachVoxelInShape(geometry, shape, (o) => {
      hu[o] = shape.value;
      labels[o] = info.label;
    });
  }
  for (const shape of after) {
    forEachVoxelInShape(geometry, shape, (o) => {
      hu[o] = shape.value;
      labels[o] = 0;
    });
  }
  const random = seededRandom(options.seed ?? 1234);
  const sigma = options.noise ?? 12;
  const data = new Int16Array(voxels);
  for (let o = 0; o < voxels; o++) {
    // Sum of three uniforms: close enough to Gaussian, zero mean, unit variance after scaling.
    const noise = (random() + random() + random() - 1.5) * 2 * sigma;
    data[o] = Math.round(hu[o] + noise);
  }
  return {
    volume: { geometry, data },
    labels: { geometry: { ...geometry }, data: labels },
    organs: ORGANS.map((o) => o.organ),
  };
}
