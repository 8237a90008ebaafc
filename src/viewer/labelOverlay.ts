/**
 * Draws one slice of a labelmap, and prompt points, on a 2D canvas laid over a slice view. The
 * slice is painted at one pixel per voxel into a scratch canvas, then drawn with the view's
 * index -> screen mapping (see planeViewport.ts), so it lines up with the vtk.js image exactly.
 * A view redraws when a change of the labelmap touches its slice (`changeTouchesSlice`): the
 * labelmap announces each changed box, the view decides.
 */
import { voxelStrides } from '../core/geometry';
import type { VoxelBox } from '../core/segmentation/region';
import type { SegmentPoint } from '../core/segmentation/segments';
import type { ImageGeometry } from '../core/types';
import { indexToScreen, type PlaneViewport } from './planeViewport';

export interface OverlayLayer {
  /** RGB and opacity (0..1) per label; labels not in the map (hidden segments) are not drawn. */
  colors: Map<number, { rgb: [number, number, number]; opacity: number }>;
  /** Opacity of the whole layer, times each label's. */
  opacity: number;
}

/** Packs RGBA into the canvas's little-endian 32-bit pixel layout. */
function packRgba(r: number, g: number, b: number, a: number): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** Whether a labelmap change (its box; null: the segment table changed) can change the slice `sliceIndex` along `normalAxis`. */
export function changeTouchesSlice(box: VoxelBox | null, normalAxis: number, sliceIndex: number): boolean {
  return !box || (box.min[normalAxis] <= sliceIndex && sliceIndex <= box.max[normalAxis]);
}

export class LabelOverlayPainter {
  private scratch: OffscreenCanvas | null = null;
  /** Kept between draws: a click redraws a view once per part, and fresh pixel memory costs more than clearing it. */
  private image: ImageData | null = null;

  /**
   * Draws the labelmap slice `sliceIndex` of the view into `ctx` (CSS pixel size times `dpr`),
   * reading only voxels inside `nonZero` (the labelmap is zero outside it). Returns whether it
   * painted (nothing when the slice has no visible label).
   */
  drawLabels(
    ctx: CanvasRenderingContext2D,
    labels: Uint8Array,
    nonZero: VoxelBox | null,
    g: ImageGeometry,
    vp: PlaneViewport,
    sliceIndex: number,
    layer: OverlayLayer,
    dpr: number,
  ): boolean {
    const { normalAxis } = vp.layout;
    const inBox = nonZero !== null && nonZero.min[normalAxis] <= sliceIndex && sliceIndex <= nonZero.max[normalAxis];
    const painted = inBox && this.colorSlice(labels, nonZero, g, vp, sliceIndex, layer);
    if (painted) this.paint(ctx, this.image!, g, vp, dpr);
    // For the benchmark: when an updated overlay was drawn (read with performance.getEntriesByName).
    performance.mark('sam:overlay-drawn');
    return painted;
  }

  /** Colours the slice's voxels inside `box` into `this.image`; whether any pixel is coloured. */
  private colorSlice(
    labels: Uint8Array,
    box: VoxelBox,
    g: ImageGeometry,
    vp: PlaneViewport,
    sliceIndex: number,
    layer: OverlayLayer,
  ): boolean {
    const { right, up, normalAxis } = vp.layout;
    const width = g.size[right.indexAxis];
    const height = g.size[up.indexAxis];
    const lut = new Uint32Array(256);
    for (const [label, { rgb, opacity }] of layer.colors) {
      const alpha = Math.round(255 * layer.opacity * opacity);
      if (alpha > 0) lut[label] = packRgba(rgb[0], rgb[1], rgb[2], alpha);
    }

    const strides = voxelStrides(g.size);
    const base = sliceIndex * strides[normalAxis];
    const stepX = strides[right.indexAxis];
    const stepY = strides[up.indexAxis];
    if (this.image?.width !== width || this.image.height !== height) this.image = new ImageData(width, height);
    const pixels = new Uint32Array(this.image.data.buffer);
    pixels.fill(0);
    let any = false;
    const [x0, x1] = [box.min[right.indexAxis], box.max[right.indexAxis]];
    for (let y = box.min[up.indexAxis]; y <= box.max[up.indexAxis]; y++) {
      let offset = base + y * stepY + x0 * stepX;
      const row = y * width;
      for (let x = x0; x <= x1; x++, offset += stepX) {
        const color = lut[labels[offset]];
        if (color) {
          pixels[row + x] = color;
          any = true;
        }
      }
    }
    return any;
  }

  /** Draws a slice image (one pixel per voxel) with the view's index -> screen mapping. */
  private paint(ctx: CanvasRenderingContext2D, image: ImageData, g: ImageGeometry, vp: PlaneViewport, dpr: number): void {
    const { right, up } = vp.layout;
    if (!this.scratch || this.scratch.width !== image.width || this.scratch.height !== image.height) {
      this.scratch = new OffscreenCanvas(image.width, image.height);
    }
    this.scratch.getContext('2d')!.putImageData(image, 0, 0);

    // Scratch pixel x covers index [x - 0.5, x + 0.5) along the right axis (same for y / up).
    const sx = (right.sign * g.spacing[right.indexAxis]) / vp.mmPerPixel;
    const sy = (-up.sign * g.spacing[up.indexAxis]) / vp.mmPerPixel;
    const ex = vp.width / 2 - vp.center[0] / vp.mmPerPixel - 0.5 * sx;
    const ey = vp.height / 2 + vp.center[1] / vp.mmPerPixel - 0.5 * sy;
    ctx.save();
    ctx.imageSmoothingEnabled = false;
    ctx.setTransform(dpr * sx, 0, 0, dpr * sy, dpr * ex, dpr * ey);
    ctx.drawImage(this.scratch, 0, 0);
    ctx.restore();
  }
}

/** Prompt points on this slice: filled green (positive) or red (negative) dots ringed in the segment colour. */
export function drawPoints(
  ctx: CanvasRenderingContext2D,
  points: readonly SegmentPoint[],
  g: ImageGeometry,
  vp: PlaneViewport,
  sliceIndex: number,
  ringColor: [number, number, number],
  dpr: number,
): void {
  ctx.save();
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  for (const point of points) {
    if (Math.round(point.index[vp.layout.normalAxis]) !== sliceIndex) continue;
    const [x, y] = indexToScreen(g, vp, point.index);
    ctx.beginPath();
    ctx.arc(x, y, 4.5, 0, 2 * Math.PI);
    ctx.fillStyle = point.positive ? '#2ee66b' : '#ff3b3b';
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = `rgb(${ringColor.join(',')})`;
    ctx.stroke();
  }
  ctx.restore();
}
