import { describe, expect, it } from 'vitest';
import { autoWindow, computeIntensityStats, initialWindow } from './windowLevel';

describe('computeIntensityStats', () => {
  it('finds the exact range and the 1/99 % percentiles of a ramp', async () => {
    const data = new Int16Array(10_000).map((_, n) => n - 5000);
    const stats = await computeIntensityStats(data);
    expect(stats.range).toEqual([-5000, 4999]);
    expect(stats.percentiles[0]).toBeCloseTo(-4900, -1);
    expect(stats.percentiles[1]).toBeCloseTo(4900, -1);
  });

  it('covers buffers larger than one chunk', async () => {
    const data = new Float32Array((1 << 22) + 10);
    data[data.length - 1] = 7;
    data[3] = -2;
    expect((await computeIntensityStats(data)).range).toEqual([-2, 7]);
  });
});

describe('window choice', () => {
  it('starts CT-like images in the soft-tissue window', async () => {
    const data = new Int16Array(1000).map((_, n) => (n < 300 ? -1000 : 40));
    expect(initialWindow(await computeIntensityStats(data)).name).toBe('Soft tissue');
  });

  it('windows MR-like images from their percentiles', async () => {
    const data = new Uint16Array(1000).map((_, n) => n);
    const stats = await computeIntensityStats(data);
    const preset = initialWindow(stats);
    expect(preset.name).toBe('Auto');
    expect(preset.windowLevel.center).toBeCloseTo(500, -1);
    expect(preset.windowLevel.width).toBeCloseTo(980, -1);
  });

  it('never returns a zero-width window for a constant image', () => {
    expect(autoWindow({ range: [5, 5], percentiles: [5, 5] }).width).toBeGreaterThan(0);
  });
});
