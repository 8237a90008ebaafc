import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImageNode } from '@itk-wasm/image-io';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageGeometry, Mat3 } from '../src/core/types';
import { readSegNrrd, writeSegNrrd, type LabelmapDocument } from '../src/core/export/seg-nrrd';
import { describeItkImage } from '../src/io/itk-image';
import { Segmentation } from '../src/core/segmentation/segmentation';

/** An oblique, anisotropic LPS grid: rotations about two axes make every direction entry non-trivial. */
function obliqueGeometry(): ImageGeometry {
  const a = 0.3;
  const b = -0.2;
  const rz = [Math.cos(a), Math.sin(a), 0, -Math.sin(a), Math.cos(a), 0, 0, 0, 1];
  const rx = [1, 0, 0, 0, Math.cos(b), Math.sin(b), 0, -Math.sin(b), Math.cos(b)];
  // Column-major product rz * rx.
  const direction = [0, 1, 2].flatMap((c) => [0, 1, 2].map((r) => [0, 1, 2].reduce((s, m) => s + rz[3 * m + r] * rx[3 * c + m], 0)));
  return { size: [23, 17, 11], spacing: [0.7, 0.9, 3.1], origin: [-101.25, 37.5, 412.125], direction: direction as Mat3 };
}

function makeDocument(): LabelmapDocument {
  const seg = new Segmentation(obliqueGeometry());
  const liver = seg.addSegment({ name: 'Liver (segment 1): left lobe', color: [221, 130, 101] });
  const tumour = seg.addSegment({ name: 'Tumour', color: [0, 255, 12] });
  seg.addSegment({ name: 'Empty one' });
  seg.beginStroke(liver.label, false);
  seg.dab({ center: [8, 8, 5], radiusMm: 4, shape: { kind: 'sphere' } });
  seg.endStroke();
  seg.beginStroke(tumour.label, false);
  seg.dab({ center: [18, 5, 2], radiusMm: 2, shape: { kind: 'disc', normalAxis: 2 } });
  seg.endStroke();
  seg.updateSegment(liver.label, {
    points: [
      { index: [8, 8, 5], positive: true },
      { index: [3, 9, 5], positive: false },
    ],
  });
  return { geometry: seg.geometry, labels: seg.labels, segments: [...seg.segments] };
}

const workDir = mkdtempSync(join(tmpdir(), 'seg-nrrd-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('seg.nrrd', () => {
  it('writes the 3D Slicer segmentation fields', () => {
    const doc = makeDocument();
    const text = new TextDecoder().decode(writeSegNrrd(doc, { gzip: false }).subarray(0, 3000));
    expect(text.startsWith('NRRD0004\n')).toBe(true);
    expect(text).toContain('space: left-posterior-superior\n');
    expect(text).toContain('Segment0_Name:=Liver (segment 1): left lobe\n');
    expect(text).toContain('Segment0_LabelValue:=1\n');
    expect(text).toContain('Segment0_Layer:=0\n');
    expect(text).toContain('Segment1_Color:=0.000000 1.000000 0.047059\n');
    expect(text).toContain('Segment1_ID:=Segment_2\n');
    expect(text).toContain('Segment2_Extent:=0 -1 0 -1 0 -1\n');
    const tumourVoxels = [...doc.labels.keys()].filter((o) => doc.labels[o] === 2);
    const iValues = tumourVoxels.map((o) => o % 23);
    expect(text).toContain(`Segment1_Extent:=${Math.min(...iValues)} ${Math.max(...iValues)} `);
  });

  for (const gzip of [true, false]) {
    it(`round-trips names, colours, points, voxels and geometry (${gzip ? 'gzip' : 'raw'})`, () => {
      const doc = makeDocument();
      const back = readSegNrrd(writeSegNrrd(doc, { gzip }));
      expect(back.segments).toEqual(doc.segments);
      expect(Buffer.from(back.labels).equals(Buffer.from(doc.labels))).toBe(true);
      expect(back.geometry.size).toEqual(doc.geometry.size);
      for (let n = 0; n < 3; n++) {
        expect(back.geometry.spacing[n]).toBeCloseTo(doc.geometry.spacing[n], 12);
        expect(back.geometry.origin[n]).toBe(doc.geometry.origin[n]);
      }
      back.geometry.direction.forEach((v, n) => expect(v).toBeCloseTo(doc.geometry.direction[n], 12));
    });
  }

  it('is read by itk-wasm with the same voxels and geometry', async () => {
    const doc = makeDocument();
    const path = join(workDir, 'labels.seg.nrrd');
    writeFileSync(path, writeSegNrrd(doc));
    const image = await readImageNode(path);
    const info = describeItkImage(image);
    expect(info.size).toEqual(doc.geometry.size);
    expect(image.imageType.componentType).toBe('uint8');
    info.spacing.forEach((v, n) => expect(v).toBeCloseTo(doc.geometry.spacing[n], 9));
    info.origin.forEach((v, n) => expect(v).toBeCloseTo(doc.geometry.origin[n], 9));
    Array.from(info.direction).forEach((v, n) => expect(v).toBeCloseTo(doc.geometry.direction[n], 9));
    expect(Buffer.from(image.data as Uint8Array).equals(Buffer.from(doc.labels))).toBe(true);
  });

  it('reads a RAS-space labelmap without segment fields as one segment per label', () => {
    const header = [
      'NRRD0004',
      'type: uchar',
      'dimension: 3',
      'space: right-anterior-superior',
      'sizes: 2 2 1',
      'space directions: (-2,0,0) (0,1.5,0) (0,0,4)',
      'kinds: domain domain domain',
      'encoding: raw',
      'space origin: (10,20,30)',
      '',
      '',
    ].join('\n');
    const bytes = new Uint8Array([...new TextEncoder().encode(header), 0, 3, 7, 3]);
    const doc = readSegNrrd(bytes);
    expect(doc.segments.map((s) => s.label)).toEqual([3, 7]);
    expect(doc.geometry.origin).toEqual([-10, -20, 30]);
    expect(doc.geometry.spacing).toEqual([2, 1.5, 4]);
    expect(doc.geometry.direction).toEqual([1, 0, 0, 0, -1, 0, 0, 0, 1]);
  });

  it('refuses what it cannot read with a clear message', () => {
    const make = (lines: string[], data: number[] = [1]) =>
      new Uint8Array([...new TextEncoder().encode(`${lines.join('\n')}\n\n`), ...data]);
    const base = ['NRRD0004', 'type: uchar', 'dimension: 3', 'sizes: 1 1 1', 'space directions: (1,0,0) (0,1,0) (0,0,1)', 'encoding: raw'];
    expect(() => readSegNrrd(new TextEncoder().encode('P5 not a nrrd'))).toThrow(/Not a NRRD/);
    expect(() => readSegNrrd(make(base.map((l) => (l === 'type: uchar' ? 'type: float' : l))))).toThrow(/8-bit/);
    expect(() => readSegNrrd(make(base.map((l) => (l === 'dimension: 3' ? 'dimension: 4' : l))))).toThrow(/layer/);
    expect(() => readSegNrrd(make(base.map((l) => (l === 'sizes: 1 1 1' ? 'sizes: 2 2 2' : l))))).toThrow(/truncated/);
    expect(() => readSegNrrd(make(base.map((l) => (l === 'encoding: raw' ? 'encoding: bzip2' : l))))).toThrow(/encoding/);
  });
});
