import type { Vec3 } from '../types';

export type Rgb = [number, number, number];

/** A prompt point of a segment, as a voxel index (i, j, k) of the source grid. */
export interface SegmentPoint {
  index: Vec3;
  positive: boolean;
}

export function samePoint(a: SegmentPoint, b: SegmentPoint): boolean {
  return a.positive === b.positive && a.index.every((v, n) => v === b.index[n]);
}

export function samePoints(a: readonly SegmentPoint[], b: readonly SegmentPoint[]): boolean {
  return a.length === b.length && a.every((point, n) => samePoint(point, b[n]));
}

/** A row of the segment table. Immutable: edits replace the object, so history snapshots share rows. */
export interface Segment {
  /** Voxel value in the labelmap, 1..255 (0 is background). */
  readonly label: number;
  readonly name: string;
  /** sRGB, 0..255 per channel. */
  readonly color: Rgb;
  readonly visible: boolean;
  /** 0..1 in the slice overlays and the 3D view; 1 when absent. */
  readonly opacity?: number;
  readonly points: readonly SegmentPoint[];
}

export const MAX_SEGMENTS = 255;

/** Distinct colours for new segments (3D Slicer's first generic anatomy colours, then a hue walk). */
const PALETTE: readonly Rgb[] = [
  [128, 174, 128],
  [241, 214, 145],
  [177, 122, 101],
  [111, 184, 210],
  [216, 101, 79],
  [221, 130, 101],
  [144, 238, 144],
  [192, 104, 88],
  [220, 245, 20],
  [78, 63, 0],
];

export function defaultSegmentColor(label: number): Rgb {
  if (label <= PALETTE.length) return PALETTE[label - 1];
  // Golden-angle hue steps keep later colours apart.
  const hue = (label * 137.508) % 360;
  return hslToRgb(hue, 0.65, 0.55);
}

function hslToRgb(hue: number, saturation: number, lightness: number): Rgb {
  const amplitude = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number): number => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (lightness - amplitude * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [channel(0), channel(8), channel(4)];
}

/** One default segment per label value present in a labelmap (import of a plain labelmap). */
export function segmentsForLabels(labels: Uint8Array): Segment[] {
  const present = new Uint8Array(256);
  for (let n = 0; n < labels.length; n++) present[labels[n]] = 1;
  const segments: Segment[] = [];
  for (let label = 1; label < 256; label++) {
    if (present[label]) segments.push({ label, name: `Segment ${label}`, color: defaultSegmentColor(label), visible: true, points: [] });
  }
  return segments;
}
