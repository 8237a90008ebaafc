/**
 * The exported fidelity-fixture graphs (scripts/prepare-test-models.sh) in onnxruntime-node reproduce
 * the official SAM-Med3D outputs, for both encoder variants: the in-repo fixture always, fixture A
 * when ../shared holds it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { upsampledAboveZero } from '../src/core/upsample';
import {
  FIXTURE_CLICKS,
  MAX_RELATIVE_ERROR,
  MIN_DICE,
  runFidelity,
  type FidelityFixture,
  type TensorConstructor,
} from '../src/selftest/fidelity';
import { referenceTrilinear } from './support/trilinear';
import { FIDELITY_FIXTURES, MINI, readFixtureFloat32, readFixtureMask, skipAbsent, type FixtureFiles } from './support/fixtures';
import { maskFromLogits } from '../src/core/engine/patch-inference';

function loadFixture(fixture: FixtureFiles): FidelityFixture {
  const f = (name: string) => readFixtureFloat32(fixture, name);
  const clicks = Array.from({ length: FIXTURE_CLICKS }, (_, i) => ({
    points: f(`points_${i + 1}`),
    labels: f(`labels_${i + 1}`),
    logits: f(`logits_${i + 1}`),
    iou: f(`iou_${i + 1}`),
  }));
  return { image: f('roi_image'), embeddings: f('embeddings'), clicks, mask3: readFixtureMask(fixture, 'mask_3') };
}

describe('upsampling the logits', () => {
  it('matches align_corners=false on a 2^3 -> 4^3 ramp (C order, last axis fastest)', () => {
    // src[i][j][k] = 4i + 2j + k; along one axis 2 -> 4 samples at source positions -0.25 (clamped), 0.25, 0.75, 1.25 (clamped hi).
    const src = Float32Array.from({ length: 8 }, (_, o) => 4 * (o >> 2) + 2 * ((o >> 1) & 1) + (o & 1));
    const out = referenceTrilinear(src, [2, 2, 2], [4, 4, 4]);
    const axis = [0, 0.25, 0.75, 1];
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++)
        for (let k = 0; k < 4; k++) {
          expect(out[16 * i + 4 * j + k]).toBeCloseTo(4 * axis[i] + 2 * axis[j] + axis[k], 6);
        }
  });

  it('thresholds without the float volume exactly as the float volume would', () => {
    const logits = readFixtureFloat32(MINI, 'logits_3');
    const size = [32, 32, 32] as const;
    const upsampled = referenceTrilinear(logits, size, [128, 128, 128]);
    const mask = upsampledAboveZero(logits, size, [128, 128, 128]);
    expect(mask.every((v, o) => v === (upsampled[o] > 0 ? 1 : 0))).toBe(true);
    expect(mask.some((v) => v === 1) && mask.some((v) => v === 0)).toBe(true);
  });

  it('is exact on edge values, uniform regions and sizes that do not divide', () => {
    // Zeros of both signs, float32's smallest subnormals, infinities and NaN, among smooth blobs
    // whose blocks are all above or all below zero (the shortcut) and noise (the interpolated edge).
    const special = [0, -0, 1e-45, -1e-45, 3e-45, 1e-38, -1e-38, Infinity, -Infinity, NaN, 1e30, -1e30];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const cases: [[number, number, number], [number, number, number]][] = [
      [
        [32, 32, 32],
        [128, 128, 128],
      ],
      [
        [5, 6, 7],
        [13, 11, 9],
      ],
      [
        [9, 8, 7],
        [4, 5, 3],
      ],
      [
        [1, 2, 3],
        [4, 4, 4],
      ],
    ];
    for (const [size, dst] of cases) {
      const src = Float32Array.from({ length: size[0] * size[1] * size[2] }, (_, o) => {
        const [i, j] = [Math.floor(o / (size[1] * size[2])), Math.floor(o / size[2]) % size[1]];
        const roll = random();
        if (roll < 0.1) return special[Math.floor(random() * special.length)];
        if (roll < 0.4) return random() - 0.5;
        return Math.sin(i / 3) + Math.cos(j / 4);
      });
      const expected = referenceTrilinear(src, size, dst);
      const mask = upsampledAboveZero(src, size, dst);
      const wrong = mask.findIndex((v, o) => v !== (expected[o] > 0 ? 1 : 0));
      expect(wrong, `${size.join('x')} -> ${dst.join('x')}`).toBe(-1);
    }
  });

  it('reproduces mask_3 from logits_3 (the fixture generator used PyTorch)', () => {
    const mask = maskFromLogits(readFixtureFloat32(MINI, 'logits_3'));
    const reference = readFixtureMask(MINI, 'mask_3');
    let differing = 0;
    for (let i = 0; i < mask.length; i++) differing += mask[i] !== reference[i] ? 1 : 0;
    expect(differing).toBeLessThanOrEqual(10);
  });
});

describe.each(FIDELITY_FIXTURES.flatMap((fixture) => ['optimized', 'plain'].map((graph) => ({ fixture, graph }))))(
  '$fixture.name through onnxruntime-node, $graph encoder',
  ({ fixture, graph }) => {
    const dir = graph === 'optimized' ? fixture.model : `${fixture.model}-plain`;

    it.skipIf(skipAbsent(fixture))('was exported by scripts/prepare-test-models.sh', () => {
      expect(existsSync(join(dir, 'encoder.onnx')), `${dir}: run bash scripts/prepare-test-models.sh`).toBe(true);
    });

    it.skipIf(!fixture.present)('reproduces the embeddings, the three clicks and the click-3 mask', async () => {
      const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2 };
      const encoder = await ort.InferenceSession.create(join(dir, 'encoder.onnx'), options);
      const decoder = await ort.InferenceSession.create(join(dir, 'decoder.onnx'), options);
      const report = await runFidelity(ort.Tensor as unknown as TensorConstructor, encoder, decoder, loadFixture(fixture));
      expect(report.embeddings).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
      for (const error of [...report.logits, ...report.iou]) expect(error).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
      expect(report.dice).toBeGreaterThanOrEqual(MIN_DICE);
      await encoder.release();
      await decoder.release();
    });
  },
);
