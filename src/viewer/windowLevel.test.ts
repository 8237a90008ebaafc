import { describe, expect, it } from 'vitest';
import { autoWindow, exactRange, initialWindow, sampleIntensityStats } from './windowLevel';

describe('intensity statistics', () => {
  it('samples the 1/99 % percentiles of a ramp', () => {
    const data = new Int16Array(10_000).map((_, n) => n - 5000);
    const { percentiles } = sampleIntensityStats(data);
    expect(percentiles[0]).toBeCloseTo(-4900, -1);
    expect(percentiles[1]).toBeCloseTo(4900, -1);
  });

  it('finds the exact range across several chunks', async () => {
    const data = new Float32Array((1 << 21) + 10);
    data[data.length - 1] = 7;
    data[3] = -2;
    expect(await exactRange(data)).toEqual([-2, 7]);
  });
});

describe('window choice', () => {
  it('starts CT-like images in the soft-tissue window', () => {
    const data = new Int16Array(1000).map((_, n) => (n < 300 ? -1000 : 40));
    expect(initialWindow(sampleIntensityStats(data)).name).toBe('Soft tissue');
  });

  it('windows MR-like images from their percentiles', () => {
    const data = new Uint16Array(1000).map((_, n) => n);
    const preset = initialWindow(sampleIntensityStats(data));
    expect(preset.name).toBe('Auto');
    expect(preset.windowLevel.center).toBeCloseTo(500, -1);
    expect(preset.windowLevel.width).toBeCloseTo(980, -1);
  });

  it('trusts a DICOM modality over the intensity heuristic', () => {
    const airAndTissue = sampleIntensityStats(new Int16Array(1000).map((_, n) => (n < 300 ? -1000 : 40)));
    expect(initialWindow(airAndTissue, 'MR').name).toBe('Auto');
    expect(initialWindow(sampleIntensityStats(new Int16Array(100)), 'CT').name).toBe('Soft tissue');
  });

  it('never returns a zero-width window for a constant image', () => {
    expect(autoWindow({ percentiles: [5, 5] }).width).toBeGreaterThan(0);
  });
});
