/**
 * `sam-med3d segment` with the oracle model on generated phantoms, through real files: the mask
 * must come back on the input's exact grid, on the clicked object, whatever the geometry.
 * Phantoms are bright objects on a zero background, like the zero padding of patches beyond the
 * image, so the oracle's threshold (midway between darkest and brightest) is the same everywhere.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dice } from '../src/core/engine/evaluation';
import { makeShapeLabels, makeShapePhantom, type PhantomShape } from '../src/core/phantom';
import type { ImageGeometry, Mat3, Vec3 } from '../src/core/types';
import { readImageNode, writeImageNode } from '../src/io/node';
import { runSamMed3d, temporaryFolder } from './support/cli';
import { LPS, RAS, centredGeometry, curvedTubePoints, oracleModelDir, rotation, tubeLength, voxelAt } from './support/engine-fixtures';

let model: string;
let dir: string;
beforeAll(() => {
  model = oracleModelDir();
  dir = temporaryFolder('sam-med3d-segment-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  geometry: ImageGeometry;
  shapes: PhantomShape[];
}

/** Writes the phantom, segments it with a click at the centre of shape `target`, returns the Dice against that shape. */
async function segmentCase({ name, geometry, shapes }: Case, target: number): Promise<number> {
  const image = path.join(dir, name);
  await writeImageNode(makeShapePhantom(geometry, shapes), image);
  const out = path.join(dir, `mask-${target}-${name}`);
  const point = voxelAt(geometry, (shapes[target] as { center: Vec3 }).center);
  const run = await runSamMed3d(['segment', '--model', model, '--image', image, '--point', point.join(','), '--out', out]);
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.code).toBe(0);
  const mask = await readImageNode(out);
  const input = await readImageNode(image);
  expect(mask.geometry.size).toEqual(geometry.size);
  mask.geometry.spacing.forEach((v, a) => expect(v).toBeCloseTo(input.geometry.spacing[a], 4));
  mask.geometry.origin.forEach((v, a) => expect(v).toBeCloseTo(input.geometry.origin[a], 3));
  mask.geometry.direction.forEach((v, a) => expect(v).toBeCloseTo(input.geometry.direction[a], 4));
  const truth = makeShapeLabels(geometry, shapes).data.map((v) => (v === target + 1 ? 1 : 0));
  return dice(Uint8Array.from(mask.data), truth);
}

const twoObjects: PhantomShape[] = [
  { kind: 'ellipsoid', center: [10, -15, 5], radii: [32, 24, 28], value: 400 },
  { kind: 'ellipsoid', center: [-55, 40, -10], radii: [22, 22, 20], value: 400 },
];
/** Index axes permuted relative to the patient: i towards A, j towards S, k towards R. */
const PERMUTED_RAS: Mat3 = [0, -1, 0, 0, 0, 1, -1, 0, 0];

describe('segment with the oracle model', () => {
  it('oblique LPS volume (NIfTI): the ellipsoid comes back on the original grid', async () => {
    const geometry = centredGeometry([140, 120, 100], [1.2, 1.3, 1.6], rotation(0.35, 0.2));
    expect(await segmentCase({ name: 'oblique.nii.gz', geometry, shapes: twoObjects }, 0)).toBeGreaterThanOrEqual(0.95);
  });

  it('a click on the other object gets that object', async () => {
    const geometry = centredGeometry([140, 120, 100], [1.2, 1.3, 1.6], rotation(0.35, 0.2));
    expect(await segmentCase({ name: 'oblique.nii.gz', geometry, shapes: twoObjects }, 1)).toBeGreaterThanOrEqual(0.95);
  });

  it('RAS volume (NRRD)', async () => {
    const geometry = centredGeometry([130, 110, 120], [1.4, 1.4, 1.4], RAS);
    expect(await segmentCase({ name: 'ras.nrrd', geometry, shapes: twoObjects }, 0)).toBeGreaterThanOrEqual(0.95);
  });

  it('RAS-flipped volume with permuted index axes', async () => {
    const geometry = centredGeometry([110, 120, 130], [1.1, 1.5, 1.3], PERMUTED_RAS);
    expect(await segmentCase({ name: 'permuted.nii.gz', geometry, shapes: twoObjects }, 0)).toBeGreaterThanOrEqual(0.95);
  });

  it('anisotropic 0.7 x 0.7 x 3 mm volume', async () => {
    const geometry = centredGeometry([260, 240, 60], [0.7, 0.7, 3], LPS);
    expect(await segmentCase({ name: 'anisotropic.nii.gz', geometry, shapes: twoObjects }, 0)).toBeGreaterThanOrEqual(0.95);
  });

  it('follows a 300 mm curved tube across sliding windows', async () => {
    const points = curvedTubePoints();
    expect(tubeLength(points)).toBeGreaterThanOrEqual(300);
    const geometry = centredGeometry([150, 110, 90], [2, 2, 2], rotation(-0.15, 0.05));
    const shapes: PhantomShape[] = [{ kind: 'tube', points, radius: 12, value: 400 }];
    const image = path.join(dir, 'tube.nii.gz');
    await writeImageNode(makeShapePhantom(geometry, shapes), image);
    const out = path.join(dir, 'tube-mask.nrrd');
    const run = await runSamMed3d([
      'segment',
      '--model',
      model,
      '--image',
      image,
      '--point',
      voxelAt(geometry, points[27]).join(',') /* the tube's middle */,
      '--out',
      out,
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr.match(/patch \d+\/8/g)?.length).toBeGreaterThanOrEqual(3);
    const mask = await readImageNode(out);
    const truth = makeShapeLabels(geometry, shapes).data;
    expect(dice(Uint8Array.from(mask.data), truth)).toBeGreaterThanOrEqual(0.9);
  });
});

describe('segment errors', () => {
  const geometry = centredGeometry([40, 40, 40], [2, 2, 2], LPS);
  let image: string;
  beforeAll(async () => {
    image = path.join(dir, 'small.nii.gz');
    await writeImageNode(makeShapePhantom(geometry, [{ kind: 'ellipsoid', center: [0, 0, 0], radii: [10, 10, 10], value: 400 }]), image);
  });
  const segment = (...args: string[]) => runSamMed3d(['segment', ...args]);

  it('names a missing image file', async () => {
    const run = await segment(
      '--model',
      model,
      '--image',
      path.join(dir, 'nope.nii.gz'),
      '--point',
      '1,2,3',
      '--out',
      path.join(dir, 'o.nii.gz'),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/nope\.nii\.gz: file not found/);
  });

  it('refuses points outside the image and malformed points', async () => {
    const outside = await segment('--model', model, '--image', image, '--point', '10,40,3', '--out', path.join(dir, 'o.nii.gz'));
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/point 10,40,3 is outside small\.nii\.gz \(size 40 x 40 x 40/);
    const malformed = await segment('--model', model, '--image', image, '--point', '10;4', '--out', path.join(dir, 'o.nii.gz'));
    expect(malformed.stderr).toMatch(/bad --point "10;4": expected three voxel indices/);
    const none = await segment('--model', model, '--image', image, '--negative', '1,2,3', '--out', path.join(dir, 'o.nii.gz'));
    expect(none.stderr).toMatch(/at least one --point is required/);
  });

  it('refuses bad models and output names', async () => {
    const empty = path.join(dir, 'empty-model');
    mkdirSync(empty, { recursive: true });
    const missing = await segment('--model', empty, '--image', image, '--point', '20,20,20', '--out', path.join(dir, 'o.nii.gz'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/encoder\.onnx not found/);
    const swapped = path.join(dir, 'swapped-model');
    mkdirSync(swapped, { recursive: true });
    copyFileSync(path.join(model, 'decoder.onnx'), path.join(swapped, 'encoder.onnx'));
    copyFileSync(path.join(model, 'decoder.onnx'), path.join(swapped, 'decoder.onnx'));
    const wrong = await segment('--model', swapped, '--image', image, '--point', '20,20,20', '--out', path.join(dir, 'o.nii.gz'));
    expect(wrong.stderr).toMatch(/is not a SAM-Med3D encoder: it lacks input "image", output "embeddings"/);
    const badOut = await segment('--model', model, '--image', image, '--point', '20,20,20', '--out', path.join(dir, 'o.png'));
    expect(badOut.stderr).toMatch(/--out .*o\.png: expected a \.nii, \.nii\.gz or \.nrrd file name/);
    const checkpoint = await segment('--checkpoint', 'x.pth', '--image', image, '--point', '20,20,20', '--out', path.join(dir, 'o.nii.gz'));
    expect(checkpoint.code).toBe(2);
    expect(checkpoint.stderr).toMatch(/cannot open checkpoint x\.pth/);
    const both = await segment(
      '--model',
      model,
      '--checkpoint',
      'x.pth',
      '--image',
      image,
      '--point',
      '20,20,20',
      '--out',
      path.join(dir, 'o.nii.gz'),
    );
    expect(both.stderr).toMatch(/either --model DIR or --checkpoint FILE, not both/);
  });
});
