/**
 * Smooth segment surfaces from a labelmap, one block of cells at a time, so that an edit re-meshes
 * only the blocks it touched.
 *
 * Method: for each label, the 0/1 mask is blurred with a [1 4 1]/6 kernel along each axis and then
 * clamped so that every voxel of the label stays above 1/2 and every other voxel below it. The
 * surface is the 1/2 level of that field, extracted with surface nets (one vertex per cell that the
 * surface crosses, at the mean of its edge crossings; one quad per crossed edge). The clamp keeps
 * the surface's topology exactly that of the voxels (a one-voxel structure never vanishes) while
 * the blur turns voxel stairs into smooth slopes. Flat faces stay half-way between voxel centres,
 * so the enclosed volume is the voxel count's volume (rounded edges and corners take a little off:
 * about 1% for an ellipsoid, 2 to 3% for a box some twenty voxels wide; a stronger blur takes more).
 *
 * Cells: cell c (per axis, c from -1 to n - 1) has the voxels c and c + 1 as corners; voxels
 * outside the image count as background, so surfaces are closed at the image border. A block
 * covers BLOCK cells per axis; a cell owns the three edges that leave its lowest corner, and the
 * block of a cell emits that cell's quads. Blocks are independent: each reads its labels with a
 * margin, so neighbouring blocks compute the same vertices where they meet and the surface has no
 * seams.
 */
import { determinant3, indexToWorldMatrix, worldToIndexMatrix } from '../geometry';
import type { ImageGeometry, Vec3 } from '../types';
import type { VoxelBox } from '../segmentation/region';
import { fitTriangleBudget } from './simplify';

/** Cells per block along each axis. */
export const BLOCK = 32;
/** Voxels a block reads below its first cell and above its last cell's upper corner. */
const MARGIN_BELOW = 3;
const MARGIN_ABOVE = 2;

/** A triangle mesh in patient (LPS mm) coordinates with outward unit normals. */
export interface SurfaceMesh {
  positions: Float32Array;
  normals: Float32Array;
  /** Three vertex indices per triangle, counter-clockwise seen from outside. */
  triangles: Uint32Array;
}

export type BlockIndex = Vec3;
/** A range of blocks, both corners inclusive. */
export interface BlockRange {
  min: BlockIndex;
  max: BlockIndex;
}

/** Number of blocks along each axis for an image of `size`. */
export function blockGridSize(size: Vec3): Vec3 {
  return size.map((n) => Math.floor(n / BLOCK) + 1) as Vec3;
}

/** First cell of block b along one axis (cells start at -1). */
function firstCell(b: number): number {
  return b * BLOCK - 1;
}

function forEachBlock(range: BlockRange, visit: (bi: number, bj: number, bk: number) => void): void {
  for (let bk = range.min[2]; bk <= range.max[2]; bk++) {
    for (let bj = range.min[1]; bj <= range.max[1]; bj++) {
      for (let bi = range.min[0]; bi <= range.max[0]; bi++) visit(bi, bj, bk);
    }
  }
}

/** The range of blocks (inclusive) whose mesh can change when the voxels of `box` change. */
export function blocksTouchedBy(box: VoxelBox, size: Vec3): BlockRange {
  const grid = blockGridSize(size);
  // A voxel's change reaches the normals' field two voxels away, the cells around those voxels,
  // and the quads that use those cells' vertices: owner cells from v - 3 to v + 3.
  const blockOf = (cell: number, axis: number) => Math.min(grid[axis] - 1, Math.max(0, Math.floor((cell + 1) / BLOCK)));
  return {
    min: box.min.map((v, a) => blockOf(v - 3, a)) as BlockIndex,
    max: box.max.map((v, a) => blockOf(v + 3, a)) as BlockIndex,
  };
}

/** The voxels (clipped to the image) a range of blocks reads. */
export function blockInputBox(blocks: BlockRange, size: Vec3): VoxelBox {
  return {
    min: blocks.min.map((b) => Math.max(0, firstCell(b) - MARGIN_BELOW)) as Vec3,
    max: blocks.max.map((b, a) => Math.min(size[a] - 1, firstCell(b) + BLOCK + MARGIN_ABOVE)) as Vec3,
  };
}

/** Labels of a part of the image: `data` holds the voxels of `box`, i-fastest. */
export interface LabelRegion {
  box: VoxelBox;
  data: Uint8Array;
}

/**
 * Meshes one block: a mesh per label that has a surface in it (labels absent from the result have
 * none). `region` must cover the block's input box (see blockInputBox).
 */
export function meshBlock(geometry: ImageGeometry, region: LabelRegion, block: BlockIndex): Map<number, SurfaceMesh> {
  const grid = new BlockGrid(geometry.size, region, block);
  const meshes = new Map<number, SurfaceMesh>();
  for (const label of grid.labelsWithSurface()) {
    const mesh = grid.mesh(label, geometry);
    if (mesh.triangles.length > 0) meshes.set(label, mesh);
  }
  return meshes;
}

/** Joins meshes into one (the per-block meshes of a label). */
export function concatMeshes(meshes: Iterable<SurfaceMesh>): SurfaceMesh {
  const list = [...meshes];
  const vertexCount = list.reduce((n, m) => n + m.positions.length / 3, 0);
  const triangleValues = list.reduce((n, m) => n + m.triangles.length, 0);
  const positions = new Float32Array(vertexCount * 3);
  const normals = new Float32Array(vertexCount * 3);
  const triangles = new Uint32Array(triangleValues);
  let vertexBase = 0;
  let triangleOffset = 0;
  for (const mesh of list) {
    positions.set(mesh.positions, vertexBase * 3);
    normals.set(mesh.normals, vertexBase * 3);
    for (let t = 0; t < mesh.triangles.length; t++) triangles[triangleOffset + t] = mesh.triangles[t] + vertexBase;
    vertexBase += mesh.positions.length / 3;
    triangleOffset += mesh.triangles.length;
  }
  return { positions, normals, triangles };
}

/** Volume enclosed by a closed, outward-oriented mesh (mm^3), by the divergence theorem. */
export function enclosedVolume(mesh: SurfaceMesh): number {
  const { positions: p, triangles: t } = mesh;
  let sum = 0;
  for (let n = 0; n < t.length; n += 3) {
    const a = 3 * t[n];
    const b = 3 * t[n + 1];
    const c = 3 * t[n + 2];
    // a . (b x c)
    sum +=
      p[a] * (p[b + 1] * p[c + 2] - p[b + 2] * p[c + 1]) -
      p[a + 1] * (p[b] * p[c + 2] - p[b + 2] * p[c]) +
      p[a + 2] * (p[b] * p[c + 1] - p[b + 1] * p[c]);
  }
  return sum / 6;
}

/** Axis-aligned bounds of a mesh's vertices, or null for an empty mesh. */
export function meshBounds(mesh: SurfaceMesh): { min: Vec3; max: Vec3 } | null {
  const p = mesh.positions;
  if (p.length === 0) return null;
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let n = 0; n < p.length; n += 3) {
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a], p[n + a]);
      max[a] = Math.max(max[a], p[n + a]);
    }
  }
  return { min, max };
}

const INSIDE_FLOOR = 0.5 + 1 / 64;
const OUTSIDE_CEILING = 0.5 - 1 / 64;

/** Voxels of a block's local grid along each axis: its cells' corners and the margins. */
const GRID_DIM = BLOCK + MARGIN_BELOW + MARGIN_ABOVE + 1;

/**
 * The local grid's arrays, made once and reused by every block: meshing is synchronous, and
 * allocating them per block (650 KB) cost as much as the meshing in garbage collection.
 */
let gridBuffers: { labels: Uint8Array; field: Float32Array; smooth: Float32Array; vertexOfCell: Int32Array } | null = null;

function reusedGridBuffers(): NonNullable<typeof gridBuffers> {
  const length = GRID_DIM ** 3;
  gridBuffers ??= {
    labels: new Uint8Array(length),
    field: new Float32Array(length),
    smooth: new Float32Array(length),
    vertexOfCell: new Int32Array((GRID_DIM - 1) ** 3),
  };
  return gridBuffers;
}

/**
 * How far around the voxels where a surface can cross (the corners of the cells it crosses) the
 * field is computed: the smooth blur computed only within a box is wrong for the box's outer two
 * voxels (it counts outside the box as 0, as outside the grid), the field's for the outer one.
 */
const FIELD_MARGIN = 2;

/** The labels around one block, on a local grid with the block's margin. */
class BlockGrid {
  /** First voxel of the local grid (may be -1 or -2: outside the image). */
  private readonly origin: Vec3;
  private readonly dims: Vec3;
  private readonly labels: Uint8Array;
  private readonly field: Float32Array;
  /** A smoother (unclamped) blur of the indicator, whose gradient gives the normals. */
  private readonly smooth: Float32Array;
  private readonly vertexOfCell: Int32Array;

  constructor(size: Vec3, region: LabelRegion, block: BlockIndex) {
    this.origin = block.map((b) => firstCell(b) - MARGIN_BELOW) as Vec3;
    this.dims = [GRID_DIM, GRID_DIM, GRID_DIM];
    const [dx, dy] = this.dims;
    ({ labels: this.labels, field: this.field, smooth: this.smooth, vertexOfCell: this.vertexOfCell } = reusedGridBuffers());
    this.labels.fill(0);
    // Copy the labels inside both the image and the region; the rest stays background.
    const { box, data } = region;
    const rx = box.max[0] - box.min[0] + 1;
    const ry = box.max[1] - box.min[1] + 1;
    const lo = this.origin.map((o, a) => Math.max(o, 0, box.min[a]));
    const hi = this.origin.map((o, a) => Math.min(o + this.dims[a] - 1, size[a] - 1, box.max[a]));
    if (lo.some((v, a) => v > hi[a])) return;
    const width = hi[0] - lo[0] + 1;
    for (let k = lo[2]; k <= hi[2]; k++) {
      for (let j = lo[1]; j <= hi[1]; j++) {
        const source = lo[0] - box.min[0] + rx * (j - box.min[1] + ry * (k - box.min[2]));
        const target = lo[0] - this.origin[0] + dx * (j - this.origin[1] + dy * (k - this.origin[2]));
        this.labels.set(data.subarray(source, source + width), target);
      }
    }
  }

  /** Labels whose voxels meet another value somewhere in the grid. */
  labelsWithSurface(): number[] {
    const seen = new Uint8Array(256);
    const { labels } = this;
    for (let n = 0; n < labels.length; n++) seen[labels[n]] = 1;
    const present: number[] = [];
    for (let value = 1; value < 256; value++) if (seen[value]) present.push(value);
    // A grid of one label only (a block deep inside a segment) has no surface.
    return present.length === 1 && !seen[0] ? [] : present;
  }

  mesh(label: number, geometry: ImageGeometry): SurfaceMesh {
    const crossing = this.crossingBox(label);
    if (!crossing) return { positions: new Float32Array(), normals: new Float32Array(), triangles: new Uint32Array() };
    this.computeField(label, growBox(crossing, FIELD_MARGIN, this.dims));
    return this.surfaceNets(geometry, crossing);
  }

  /**
   * The local voxels where `label`'s surface can cross: each corner of a cell it crosses is at most
   * one voxel from one of the label's voxels and from one of the others, so it lies in the box of
   * the label's voxels and in the box of the others, each grown by one. Null when the grid has only
   * one of them.
   */
  private crossingBox(label: number): VoxelBox | null {
    const { labels, dims } = this;
    const [dx, dy, dz] = dims;
    // Bounds of the label's voxels (In) and of the others (Out), per axis; grown by the rows' scans.
    const inMin: Vec3 = [dx, dy, dz];
    const inMax: Vec3 = [-1, -1, -1];
    const outMin: Vec3 = [dx, dy, dz];
    const outMax: Vec3 = [-1, -1, -1];
    const extend = (min: Vec3, max: Vec3, first: number, last: number, j: number, k: number) => {
      min[0] = Math.min(min[0], first);
      max[0] = Math.max(max[0], last);
      min[1] = Math.min(min[1], j);
      max[1] = Math.max(max[1], j);
      min[2] = Math.min(min[2], k);
      max[2] = Math.max(max[2], k);
    };
    for (let k = 0, row = 0; k < dz; k++) {
      for (let j = 0; j < dy; j++, row += dx) {
        let firstIn = -1;
        let lastIn = -1;
        let firstOut = -1;
        let lastOut = -1;
        for (let i = 0; i < dx; i++) {
          if (labels[row + i] === label) {
            if (firstIn < 0) firstIn = i;
            lastIn = i;
          } else {
            if (firstOut < 0) firstOut = i;
            lastOut = i;
          }
        }
        if (firstIn >= 0) extend(inMin, inMax, firstIn, lastIn, j, k);
        if (firstOut >= 0) extend(outMin, outMax, firstOut, lastOut, j, k);
      }
    }
    if (inMax[0] < 0 || outMax[0] < 0) return null;
    const both: VoxelBox = {
      min: inMin.map((v, axis) => Math.max(0, v - 1, outMin[axis] - 1)) as Vec3,
      max: inMax.map((v, axis) => Math.min(dims[axis] - 1, v + 1, outMax[axis] + 1)) as Vec3,
    };
    return both.min.every((v, axis) => v <= both.max[axis]) ? both : null;
  }

  /**
   * The blurred, clamped indicator of `label` (see the module comment) into `field`, and a twice
   * [1 2 1]/4-blurred indicator into `smooth`: shading from its gradient hides the voxel steps
   * that the weak blur of the positions leaves.
   */
  private computeField(label: number, box: VoxelBox): void {
    const { labels, field, smooth, dims } = this;
    forEachRow(dims, box, (start, end) => {
      for (let n = start; n < end; n++) smooth[n] = field[n] = labels[n] === label ? 1 : 0;
    });
    for (let axis = 0; axis < 3; axis++) blurAxis(field, dims, box, axis, 1 / 6, 4 / 6);
    forEachRow(dims, box, (start, end) => {
      for (let n = start; n < end; n++) {
        const value = field[n];
        field[n] = labels[n] === label ? Math.max(value, INSIDE_FLOOR) : Math.min(value, OUTSIDE_CEILING);
      }
    });
    for (let pass = 0; pass < 2; pass++) {
      for (let axis = 0; axis < 3; axis++) blurAxis(smooth, dims, box, axis, 1 / 4, 1 / 2);
    }
  }

  /** The surface from the field, from the edges that leave the voxels of `crossing`. */
  private surfaceNets(geometry: ImageGeometry, crossing: VoxelBox): SurfaceMesh {
    const { field, smooth, dims, origin, vertexOfCell } = this;
    const [dx, dy] = dims;
    const sx = 1;
    const sy = dx;
    const sz = dx * dy;
    // Local cells 0..dims-2 have local corner voxels c and c + 1. The block's own cells start at
    // local cell MARGIN_BELOW; one more layer below gives the vertices its quads need.
    const cellDims = dims.map((d) => d - 1) as Vec3;
    vertexOfCell.fill(-1);
    const cellOffset = (i: number, j: number, k: number) => i + cellDims[0] * (j + cellDims[1] * k);
    const positions: number[] = [];
    const normals: number[] = [];
    const triangles: number[] = [];
    const toWorld = indexToWorldMatrix(geometry);
    const toIndex = worldToIndexMatrix(geometry);
    const corner = new Float32Array(8);
    const smoothCorner = new Float32Array(8);
    const first = MARGIN_BELOW - 1;
    const last = MARGIN_BELOW + BLOCK - 1;

    const vertex = (i: number, j: number, k: number): number => {
      const cell = cellOffset(i, j, k);
      if (vertexOfCell[cell] >= 0) return vertexOfCell[cell];
      const base = i * sx + j * sy + k * sz;
      for (let c = 0; c < 8; c++) corner[c] = field[base + (c & 1 ? sx : 0) + (c & 2 ? sy : 0) + (c & 4 ? sz : 0)];
      for (let c = 0; c < 8; c++) smoothCorner[c] = smooth[base + (c & 1 ? sx : 0) + (c & 2 ? sy : 0) + (c & 4 ? sz : 0)];
      let x = 0;
      let y = 0;
      let z = 0;
      let crossings = 0;
      // The 12 cell edges as pairs of corners (bit 0 = +i, bit 1 = +j, bit 2 = +k).
      for (const [a, b] of CELL_EDGES) {
        const fa = corner[a];
        const fb = corner[b];
        if (fa > 0.5 === fb > 0.5) continue;
        const t = (0.5 - fa) / (fb - fa);
        x += (a & 1) + t * ((b & 1) - (a & 1));
        y += ((a >> 1) & 1) + t * (((b >> 1) & 1) - ((a >> 1) & 1));
        z += ((a >> 2) & 1) + t * (((b >> 2) & 1) - ((a >> 2) & 1));
        crossings++;
      }
      const ii = origin[0] + i + x / crossings;
      const jj = origin[1] + j + y / crossings;
      const kk = origin[2] + k + z / crossings;
      positions.push(
        toWorld[12] + toWorld[0] * ii + toWorld[4] * jj + toWorld[8] * kk,
        toWorld[13] + toWorld[1] * ii + toWorld[5] * jj + toWorld[9] * kk,
        toWorld[14] + toWorld[2] * ii + toWorld[6] * jj + toWorld[10] * kk,
      );
      // The field decreases outwards: the outward normal is minus its gradient, taken to world
      // coordinates with the transpose of the world -> index matrix.
      const g = smoothCorner;
      const gi = g[1] - g[0] + g[3] - g[2] + g[5] - g[4] + g[7] - g[6];
      const gj = g[2] - g[0] + g[3] - g[1] + g[6] - g[4] + g[7] - g[5];
      const gk = g[4] - g[0] + g[5] - g[1] + g[6] - g[2] + g[7] - g[3];
      const nx = -(gi * toIndex[0] + gj * toIndex[1] + gk * toIndex[2]);
      const ny = -(gi * toIndex[4] + gj * toIndex[5] + gk * toIndex[6]);
      const nz = -(gi * toIndex[8] + gj * toIndex[9] + gk * toIndex[10]);
      const length = Math.hypot(nx, ny, nz) || 1;
      normals.push(nx / length, ny / length, nz / length);
      vertexOfCell[cell] = positions.length / 3 - 1;
      return vertexOfCell[cell];
    };

    // Corners a, b, c, d turn counter-clockwise around the edge's +axis: seen from outside when
    // the edge's lower voxel is the inside one.
    const quad = (lowerInside: boolean, a: number, b: number, c: number, d: number) => {
      if (lowerInside) triangles.push(a, b, c, a, c, d);
      else triangles.push(a, d, c, a, c, b);
    };

    // The block's own cells, where an edge can cross.
    const from = crossing.min.map((v) => Math.max(v, first + 1));
    const to = crossing.max.map((v) => Math.min(v, last));
    for (let k = from[2]; k <= to[2]; k++) {
      for (let j = from[1]; j <= to[1]; j++) {
        for (let i = from[0]; i <= to[0]; i++) {
          const here = i * sx + j * sy + k * sz;
          const inside = field[here] > 0.5;
          // Edge along +i from this cell's lowest corner, surrounded by cells (i, j-1..j, k-1..k).
          if (inside !== field[here + sx] > 0.5) {
            quad(inside, vertex(i, j, k), vertex(i, j - 1, k), vertex(i, j - 1, k - 1), vertex(i, j, k - 1));
          }
          if (inside !== field[here + sy] > 0.5) {
            quad(inside, vertex(i, j, k), vertex(i, j, k - 1), vertex(i - 1, j, k - 1), vertex(i - 1, j, k));
          }
          if (inside !== field[here + sz] > 0.5) {
            quad(inside, vertex(i, j, k), vertex(i - 1, j, k), vertex(i - 1, j - 1, k), vertex(i, j - 1, k));
          }
        }
      }
    }
    // A left-handed index frame (negative direction determinant) mirrors the quads' winding.
    if (determinant3(geometry.direction) < 0) {
      for (let t = 0; t < triangles.length; t += 3) [triangles[t + 1], triangles[t + 2]] = [triangles[t + 2], triangles[t + 1]];
    }
    return { positions: new Float32Array(positions), normals: new Float32Array(normals), triangles: new Uint32Array(triangles) };
  }
}

/** `box` grown by `margin` voxels, within a dims-sized grid. */
function growBox(box: VoxelBox, margin: number, dims: Vec3): VoxelBox {
  return {
    min: box.min.map((v) => Math.max(0, v - margin)) as Vec3,
    max: box.max.map((v, axis) => Math.min(dims[axis] - 1, v + margin)) as Vec3,
  };
}

/** Calls `visit(start, end)` with the offsets of each row (i varying) of `box` in a dims-sized grid. */
function forEachRow(dims: Vec3, box: VoxelBox, visit: (start: number, end: number) => void): void {
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      const start = box.min[0] + dims[0] * (j + dims[1] * k);
      visit(start, start + box.max[0] - box.min[0] + 1);
    }
  }
}

/**
 * One pass of a symmetric 3-tap kernel (side, centre, side) along an axis of a dims-sized grid,
 * within `box`, in place: each line keeps the two original values it still needs, so no second
 * array is needed. Outside the box counts as 0.
 */
function blurAxis(values: Float32Array, dims: Vec3, box: VoxelBox, axis: number, side: number, centre: number): void {
  const strides = [1, dims[0], dims[0] * dims[1]];
  const stride = strides[axis];
  // The other two axes, whose index pairs name the lines.
  const [u, v] = axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
  const n = box.max[axis] - box.min[axis] + 1;
  for (let b = box.min[v]; b <= box.max[v]; b++) {
    for (let a = box.min[u]; a <= box.max[u]; a++) {
      const start = a * strides[u] + b * strides[v] + box.min[axis] * stride;
      let previous = 0;
      let current = values[start];
      for (let p = 0; p < n; p++) {
        const offset = start + p * stride;
        const next = p < n - 1 ? values[offset + stride] : 0;
        values[offset] = side * (previous + next) + centre * current;
        previous = current;
        current = next;
      }
    }
  }
}

/** A 32-bit FNV-1a hash of a mesh's vertex positions and triangles: two meshes alike have the same. */
function meshFingerprint({ positions, triangles }: SurfaceMesh): number {
  let hash = 0x811c9dc5;
  for (const words of [new Uint32Array(positions.buffer, positions.byteOffset, positions.length), triangles]) {
    for (let n = 0; n < words.length; n++) hash = Math.imul(hash ^ words[n], 0x01000193);
  }
  return hash >>> 0;
}

/** The 12 edges of a cell as corner pairs (corner bits: 1 = +i, 2 = +j, 4 = +k). */
const CELL_EDGES: [number, number][] = [
  [0, 1],
  [2, 3],
  [4, 5],
  [6, 7],
  [0, 2],
  [1, 3],
  [4, 6],
  [5, 7],
  [0, 4],
  [1, 5],
  [2, 6],
  [3, 7],
];

/** Blocks per chunk along each axis: a chunk (128 cells across) is what a view draws as one piece. */
export const CHUNK_BLOCKS = 4;

/** A label's surface within one chunk. */
export interface ChunkKey {
  label: number;
  chunk: number;
}

/** A label's mesh in one block as kept: exact, or simplified where the exact one had too many triangles. */
interface KeptMesh {
  mesh: SurfaceMesh;
  exact: boolean;
  /** The exact mesh's triangle count, and its fingerprint (whether meshing again changed it). */
  triangles: number;
  fingerprint: number;
}

/**
 * The surfaces of a labelmap kept as per-block meshes: `update` re-meshes only the blocks an edit
 * touched and says which chunks of which labels changed, `chunkSurface` joins a chunk's blocks
 * (what a view redraws after an edit) and `surface` all blocks of a label (an export). Blocks can
 * also be marked now and re-meshed later, a few at a time (`mark`, `updateMarked`): a block marked
 * twice before then is meshed once.
 *
 * With `noisy`, a block's mesh with more than `above` triangles (noise: a smooth surface crosses
 * a block with a few thousand) is kept simplified to `keep` for display, and `surface` meshes it
 * again from the labels for an export: the exact meshes of the benchmark's noisy masks took 582 MB.
 */
export class BlockSurfaces {
  private readonly blocks = new Map<number, Map<number, KeptMesh>>();
  private readonly grid: Vec3;
  private readonly chunkGrid: Vec3;
  /** Keys of the blocks marked and not re-meshed yet, in the order they were marked. */
  private readonly marks = new Set<number>();

  constructor(
    readonly geometry: ImageGeometry,
    private readonly options: { noisy?: { above: number; keep: number } } = {},
  ) {
    this.grid = blockGridSize(geometry.size);
    this.chunkGrid = this.grid.map((n) => Math.ceil(n / CHUNK_BLOCKS)) as Vec3;
  }

  /**
   * Re-meshes a range of blocks (see blocksTouchedBy), reading their labels from `region` (which
   * must cover blockInputBox of the range). Returns the chunks whose surface changed, per label.
   */
  update(region: LabelRegion, touched: BlockRange): ChunkKey[] {
    const changed = new Map<string, ChunkKey>();
    forEachBlock(touched, (bi, bj, bk) => this.remesh(region, bi, bj, bk, changed));
    return [...changed.values()];
  }

  /** Notes a range of blocks to re-mesh with `updateMarked`. */
  mark(touched: BlockRange): void {
    forEachBlock(touched, (bi, bj, bk) => this.marks.add(this.blockKey(bi, bj, bk)));
  }

  /** Blocks marked and not re-meshed yet. */
  get markedBlocks(): number {
    return this.marks.size;
  }

  /**
   * Re-meshes marked blocks, the earliest marked first, reading their labels from `region` (the
   * whole labelmap), until none is left or `stop()` says so after a block. Returns the chunks whose
   * surface changed, per label.
   */
  updateMarked(region: LabelRegion, stop: () => boolean): ChunkKey[] {
    const changed = new Map<string, ChunkKey>();
    for (const key of this.marks) {
      this.marks.delete(key);
      this.remesh(region, ...this.blockAt(key), changed);
      if (stop()) break;
    }
    return [...changed.values()];
  }

  /** Meshes one block again, noting in `changed` the chunks of the labels whose mesh changed. */
  private remesh(region: LabelRegion, bi: number, bj: number, bk: number, changed: Map<string, ChunkKey>): void {
    const key = this.blockKey(bi, bj, bk);
    const before = this.blocks.get(key);
    const after = new Map([...meshBlock(this.geometry, region, [bi, bj, bk])].map(([label, mesh]) => [label, this.keep(mesh)]));
    const chunk = this.chunkOf(bi, bj, bk);
    for (const label of new Set([...(before?.keys() ?? []), ...after.keys()])) {
      if (before?.get(label)?.fingerprint !== after.get(label)?.fingerprint) changed.set(`${label}:${chunk}`, { label, chunk });
    }
    if (after.size > 0) this.blocks.set(key, after);
    else this.blocks.delete(key);
  }

  private keep(mesh: SurfaceMesh): KeptMesh {
    const triangles = mesh.triangles.length / 3;
    const fingerprint = meshFingerprint(mesh);
    const { noisy } = this.options;
    if (!noisy || triangles <= noisy.above) return { mesh, exact: true, triangles, fingerprint };
    // Clustering starts from cubes of two voxels, as the display's simplification does.
    const simplified = fitTriangleBudget(mesh, noisy.keep, 2 * Math.max(...this.geometry.spacing));
    return { mesh: simplified, exact: false, triangles, fingerprint };
  }

  /**
   * The surface of a label within one chunk (empty when it has none there), for display: noisy
   * blocks in it are simplified (see `noisy`); `triangles` counts the exact meshes'.
   */
  chunkSurface({ label, chunk }: ChunkKey): { surface: SurfaceMesh; triangles: number } {
    const [cx, cy] = this.chunkGrid;
    const first = [chunk % cx, Math.floor(chunk / cx) % cy, Math.floor(chunk / (cx * cy))].map((c) => c * CHUNK_BLOCKS) as BlockIndex;
    const last = first.map((b, a) => Math.min(b + CHUNK_BLOCKS, this.grid[a]) - 1) as BlockIndex;
    const parts: KeptMesh[] = [];
    forEachBlock({ min: first, max: last }, (bi, bj, bk) => {
      const kept = this.blocks.get(this.blockKey(bi, bj, bk))?.get(label);
      if (kept) parts.push(kept);
    });
    return { surface: concatMeshes(parts.map((p) => p.mesh)), triangles: parts.reduce((n, p) => n + p.triangles, 0) };
  }

  /**
   * The whole exact surface of a label (empty when it has no voxels), for an export. Blocks kept
   * simplified are meshed again from `region` (the whole labelmap, as last updated).
   */
  surface(label: number, region?: LabelRegion): SurfaceMesh {
    const parts: SurfaceMesh[] = [];
    for (const [key, meshes] of this.blocks) {
      const kept = meshes.get(label);
      if (!kept) continue;
      if (kept.exact) parts.push(kept.mesh);
      else if (region) parts.push(meshBlock(this.geometry, region, this.blockAt(key)).get(label)!);
      else throw new Error('surface(): blocks kept simplified need the labels to be meshed exactly.');
    }
    return concatMeshes(parts);
  }

  private blockKey(bi: number, bj: number, bk: number): number {
    return bi + this.grid[0] * (bj + this.grid[1] * bk);
  }

  private blockAt(key: number): BlockIndex {
    const [gx, gy] = this.grid;
    return [key % gx, Math.floor(key / gx) % gy, Math.floor(key / (gx * gy))];
  }

  private chunkOf(bi: number, bj: number, bk: number): number {
    const [cx, cy] = this.chunkGrid;
    const c = (b: number) => Math.floor(b / CHUNK_BLOCKS);
    return c(bi) + cx * (c(bj) + cy * c(bk));
  }
}
