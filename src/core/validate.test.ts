import { describe, expect, it } from 'vitest';
import { assertUsableImage, geometryFromInfo, imageProblem, LoadError, type DecodedImageInfo } from './validate';

const GOOD: DecodedImageInfo = {
  dimension: 3,
  size: [64, 64, 40],
  spacing: [0.8, 0.8, 2],
  origin: [1, 2, 3],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  components: 1,
  componentType: 'int16',
};

describe('image validation', () => {
  it('accepts a scalar 3D image', () => {
    expect(imageProblem(GOOD)).toBeNull();
  });

  it('names each problem', () => {
    expect(imageProblem({ ...GOOD, dimension: 4, size: [64, 64, 40, 5], spacing: [1, 1, 1, 1] })).toMatch(/4D image \(64 x 64 x 40 x 5\)/);
    expect(imageProblem({ ...GOOD, dimension: 2, size: [64, 64] })).toMatch(/2D image/);
    expect(imageProblem({ ...GOOD, components: 3 })).toMatch(/colour \(RGB\)/);
    expect(imageProblem({ ...GOOD, components: 2 })).toMatch(/multi-component image with 2 values/);
    expect(imageProblem({ ...GOOD, componentType: 'int64' })).toMatch(/voxel type int64/);
    expect(imageProblem({ ...GOOD, size: [64, 0, 40] })).toMatch(/empty/);
    expect(imageProblem({ ...GOOD, spacing: [0.8, 0, 2] })).toMatch(/spacing along y is zero/);
    expect(imageProblem({ ...GOOD, spacing: [-1, 1, 2] })).toMatch(/spacing along x is negative/);
    expect(imageProblem(GOOD, { maxVoxels: 1000 })).toMatch(/too large/);
  });

  it('throws a LoadError naming the file', () => {
    expect(() => assertUsableImage('scan.nii', { ...GOOD, components: 3 })).toThrow(LoadError);
    let thrown: unknown;
    try {
      assertUsableImage('scan.nii', { ...GOOD, spacing: [1, 1, 0] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LoadError);
    expect((thrown as LoadError).fileName).toBe('scan.nii');
    expect((thrown as LoadError).message).toMatch(/^scan\.nii: invalid geometry: voxel spacing along z is zero/);
  });

  it('takes the 3D geometry from a 3x3 column-major direction', () => {
    const g = geometryFromInfo({ ...GOOD, direction: [0, 1, 0, -1, 0, 0, 0, 0, 1] });
    expect(g.direction).toEqual([0, 1, 0, -1, 0, 0, 0, 0, 1]);
    expect(g.size).toEqual([64, 64, 40]);
  });
});
