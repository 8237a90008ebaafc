/**
 * Real-world DICOM: every sample file pydicom ships (Debian python3-pydicom) and DICOM our writer
 * generates for each odd case archives hold (truncated, no image, SEG, mosaic, enhanced
 * multi-frame, 4D, missing slice, gantry tilt) through the app's reader in Node (real itk-wasm).
 * Each file is either loaded with its size, or refused with its reason. Geometry is compared
 * with one computed independently by pydicom (tests/support/pydicom_geometry.py).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSegmentationNode } from '@itk-wasm/dicom';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDicomSegMetaInfo } from '../src/core/export/dicom-seg-meta';
import type { ImageGeometry, Volume } from '../src/core/types';
import { inspectDicom } from '../src/io/dicom-header';
import { placeLabels, segmentsFromSegMeta, segMismatch } from '../src/io/dicom-seg';
import { itkImageToVolume } from '../src/io/itk-image';
import { listDicomSeriesNode, readImageNode, writeDicomSegNode } from '../src/io/node';
import { expectSameGrid, hasPydicom, outcome, PYDICOM_SAMPLES, pydicomGeometry, type Outcome } from './support/dicom-geometry';
import { encodeDicomSeries, encodeDicomWithoutImage, encodeEnhancedDicom, RT_PLAN_STORAGE } from './support/dicom-writer';
import { obliqueDirection, obliqueLpsVolume, writeTestDicomSeries } from './support/test-files';

if (!hasPydicom) console.warn(`Skipping the pydicom corpus: ${PYDICOM_SAMPLES} is missing (Debian python3-pydicom; npm test installs it).`);

const workDir = mkdtempSync(path.join(tmpdir(), 'dicom-corpus-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const COLOUR = /colour \(RGB\) image with 3 values per voxel/;
const UNDECODABLE = /the DICOM data could not be decoded/;
const NO_IMAGE = /which holds no image/;
const LIVER_SEG =
  /DICOM SEG \(a segmentation\) of series 1\.2\.392\.200103\.20080913\.113635\.1\.2009\.6\.22\.21\.43\.10\.23430\.1; open that series first/;

/** The outcome of every .dcm sample of pydicom 2.3: a size [columns, rows, slices] or a reason. */
const PYDICOM_EXPECTED: Record<string, number[] | RegExp> = {
  '693_J2KI.dcm': [512, 512, 1],
  'CT_small.dcm': [128, 128, 1],
  'ExplVR_BigEnd.dcm': COLOUR,
  // Bare datasets (no Part 10 header) of an RT Ion Plan.
  'ExplVR_BigEndNoMeta.dcm': /an RT Ion Plan \(SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.8, modality RTPLAN\), which holds no image/,
  'ExplVR_LitEndNoMeta.dcm': /an RT Ion Plan \(SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.8, modality RTPLAN\), which holds no image/,
  'GDCMJ2K_TextGBR.dcm': COLOUR,
  'J2K_pixelrep_mismatch.dcm': [512, 512, 1],
  'JPEG-lossy.dcm': [256, 1024, 1],
  'JPEG2000-embedded-sequence-delimiter.dcm': UNDECODABLE,
  'JPEG2000.dcm': [256, 1024, 1],
  'JPGExtended.dcm': [256, 1024, 1],
  'MR_small.dcm': [64, 64, 1],
  'MR_small_RLE.dcm': [64, 64, 1],
  'MR_small_bigendian.dcm': [64, 64, 1],
  'MR_small_expb.dcm': [64, 64, 1],
  'MR_small_implicit.dcm': [64, 64, 1],
  'MR_small_jp2klossless.dcm': [64, 64, 1],
  'MR_small_jpeg_ls_lossless.dcm': [64, 64, 1],
  'MR_small_padded.dcm': [64, 64, 1],
  'MR_truncated.dcm': /the file is truncated: its pixel data needs 62 more bytes than the file holds/,
  'SC_jpeg_no_color_transform.dcm': COLOUR,
  'SC_jpeg_no_color_transform_2.dcm': COLOUR,
  'SC_rgb_dcmtk_+eb+cr.dcm': COLOUR,
  'SC_rgb_dcmtk_+eb+cy+n1.dcm': COLOUR,
  'SC_rgb_dcmtk_+eb+cy+n2.dcm': COLOUR,
  'SC_rgb_dcmtk_+eb+cy+np.dcm': COLOUR,
  'SC_rgb_dcmtk_+eb+cy+s2.dcm': COLOUR,
  'SC_rgb_dcmtk_+eb+cy+s4.dcm': COLOUR,
  'SC_rgb_gdcm_KY.dcm': COLOUR,
  // Implicit VR inside an explicit-VR file: ITK cannot parse it.
  'SC_rgb_jpeg.dcm': UNDECODABLE,
  'SC_rgb_jpeg_app14_dcmd.dcm': COLOUR,
  'SC_rgb_jpeg_dcmd.dcm': COLOUR,
  'SC_rgb_jpeg_dcmtk.dcm': COLOUR,
  'SC_rgb_jpeg_gdcm.dcm': COLOUR,
  'SC_rgb_jpeg_lossy_gdcm.dcm': COLOUR,
  'SC_rgb_rle.dcm': COLOUR,
  'SC_rgb_rle_16bit.dcm': COLOUR,
  'SC_rgb_rle_16bit_2frame.dcm': COLOUR,
  'SC_rgb_rle_2frame.dcm': COLOUR,
  'SC_rgb_rle_32bit.dcm': COLOUR,
  'SC_rgb_rle_32bit_2frame.dcm': COLOUR,
  'SC_rgb_small_odd.dcm': COLOUR,
  'SC_rgb_small_odd_jpeg.dcm': COLOUR,
  'SC_ybr_full_422_uncompressed.dcm': COLOUR,
  // Fragments of datasets written to test parsers: no pixel data.
  'UN_sequence.dcm': /a DICOM object \(SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2\), which holds no image/,
  'badVR.dcm': [10, 10, 1],
  'empty_charset_LEI.dcm': /a DICOM object \(SOP class not given\), which holds no image/,
  'image_dfl.dcm': [512, 512, 1],
  'liver_1frame.dcm': LIVER_SEG,
  'liver_expb_1frame.dcm': LIVER_SEG,
  'meta_missing_tsyntax.dcm': UNDECODABLE,
  'nested_priv_SQ.dcm': UNDECODABLE,
  'no_meta.dcm': UNDECODABLE,
  'no_meta_group_length.dcm': NO_IMAGE,
  'priv_SQ.dcm': NO_IMAGE,
  'reportsi.dcm': /a structured report \(SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\.11, modality SR\), which holds no image/,
  'reportsi_with_empty_number_tags.dcm': /a structured report .*which holds no image/,
  'rtdose.dcm': [10, 10, 15],
  'rtdose_1frame.dcm': [10, 10, 1],
  'rtdose_expb.dcm': [10, 10, 15],
  'rtdose_expb_1frame.dcm': [10, 10, 1],
  'rtdose_rle.dcm': [10, 10, 15],
  'rtdose_rle_1frame.dcm': [10, 10, 1],
  'rtplan.dcm': /an RT Plan \(SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.5, modality RTPLAN\), which holds no image/,
  'rtplan_truncated.dcm': /the file is truncated: it ends inside element \(300A,0070\)/,
  'rtstruct.dcm': /an RT Structure Set \(SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.3, modality RTSTRUCT\), which holds no image/,
  'test-SR.dcm': /a structured report .*modality SR\), which holds no image/,
  'waveform_ecg.dcm':
    /a waveform \(ECG or other signal\) \(SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.9\.1\.1, modality ECG\), which holds no image/,
};

describe.skipIf(!hasPydicom)("pydicom's sample files", () => {
  const names = hasPydicom
    ? readdirSync(PYDICOM_SAMPLES)
        .filter((f) => f.endsWith('.dcm'))
        .sort()
    : [];

  it('has an expected outcome for every sample', () => {
    expect(names).toEqual(Object.keys(PYDICOM_EXPECTED).sort());
  });

  it('loads each with its size and pydicom geometry, or refuses it with its reason', async () => {
    const outcomes = new Map<string, Outcome>();
    for (const name of names) outcomes.set(name, await outcome(path.join(PYDICOM_SAMPLES, name)));
    const loadedNames = names.filter((name) => 'loaded' in outcomes.get(name)!);
    const reference = pydicomGeometry(loadedNames.map((name) => path.join(PYDICOM_SAMPLES, name)));
    let compared = 0;
    for (const name of names) {
      const expected = PYDICOM_EXPECTED[name];
      const result = outcomes.get(name)!;
      if (expected instanceof RegExp) {
        expect('refused' in result ? result.refused.reason : `loaded ${name}`, name).toMatch(expected);
        if ('refused' in result) expect(result.refused.fileName).toBe(name);
        continue;
      }
      expect('loaded' in result ? result.loaded.size : `${name} refused: ${'refused' in result && result.refused.reason}`, name).toEqual(
        expected,
      );
      const pydicom = reference[path.join(PYDICOM_SAMPLES, name)];
      // badVR.dcm has NumberOfFrames "1A", which pydicom refuses to read.
      if ('error' in pydicom) expect(name).toBe('badVR.dcm');
      else {
        expectSameGrid((result as { loaded: ImageGeometry }).loaded, pydicom as ImageGeometry, name);
        compared++;
      }
    }
    expect(compared).toBe(21);
  });

  it('skips and counts the files without an image when the whole folder is opened', async () => {
    const files = readdirSync(PYDICOM_SAMPLES).map((f) => path.join(PYDICOM_SAMPLES, f));
    const { series, skipped } = await listDicomSeriesNode(files);
    expect(series.length).toBeGreaterThan(5);
    expect(Object.fromEntries(skipped)).toMatchObject({
      'RT Plan (RTPLAN)': 1,
      'waveform (ECG or other signal) (ECG)': 1,
      'structured report (SR)': 3,
      'DICOM SEG (import it with "Import labelmap")': 2,
      truncated: 2,
    });
    expect(skipped.get('not DICOM')).toBeGreaterThanOrEqual(6);
  });
});

describe('generated DICOM for each real-world case', () => {
  const source = obliqueLpsVolume({ size: [32, 28, 12], spacing: [2, 2.5, 3] });
  const straight = obliqueLpsVolume({ size: [32, 28, 12], spacing: [2, 2.5, 3], direction: obliqueDirection(0, 0) });
  const dir = (name: string) => path.join(workDir, name);

  it('reads a regular oblique series with pydicom geometry', async () => {
    writeTestDicomSeries(dir('regular'), source);
    const result = await outcome(dir('regular'));
    expect(result).toMatchObject({ warnings: [] });
    expectSameGrid(
      (result as { loaded: ImageGeometry }).loaded,
      pydicomGeometry([dir('regular')])[dir('regular')] as ImageGeometry,
      'regular',
    );
  });

  it('refuses a truncated file naming it, and skips it in a folder with a warning', async () => {
    const files = writeTestDicomSeries(dir('truncated'), source);
    truncateSync(files[5], statSync(files[5]).size - 300);
    const single = await outcome(files[5]);
    expect('refused' in single && single.refused.message).toMatch(
      /^IM0006\.dcm: the file is truncated: its pixel data needs 300 more bytes/,
    );
    const folder = await outcome(dir('truncated'));
    expect(folder).toMatchObject({ loaded: { size: [32, 28, 12] } });
    expect('loaded' in folder && folder.warnings).toEqual([
      '1 file skipped: 1 truncated.',
      '1 slice is missing (gaps from 3 mm to 6 mm); the scan was resampled onto a regular grid of 3 mm slices.',
    ]);
  });

  it('says what an object without an image is, and skips and counts it in a folder', async () => {
    const plan = dir('plan.dcm');
    writeFileSync(plan, encodeDicomWithoutImage(RT_PLAN_STORAGE, 'RTPLAN'));
    const single = await outcome(plan);
    expect('refused' in single && single.refused.message).toBe(
      'plan.dcm: it is an RT Plan (SOP class 1.2.840.10008.5.1.4.1.1.481.5, modality RTPLAN), which holds no image',
    );
    writeTestDicomSeries(dir('with-plan'), straight);
    writeFileSync(path.join(dir('with-plan'), 'plan.dcm'), encodeDicomWithoutImage(RT_PLAN_STORAGE, 'RTPLAN'));
    writeFileSync(path.join(dir('with-plan'), 'notes.txt'), 'not DICOM');
    const folder = await outcome(dir('with-plan'));
    expect(folder).toMatchObject({ loaded: { size: [32, 28, 12] }, warnings: ['2 files skipped: 1 not DICOM, 1 RT Plan (RTPLAN).'] });
  });

  it('recognises a DICOM SEG and names the series it belongs to', async () => {
    const files = writeTestDicomSeries(dir('seg-series'), straight, { seriesInstanceUid: '2.25.424242' });
    const scan = await readImageNode(dir('seg-series'));
    const labels = new Uint8Array(scan.data.length);
    labels.fill(1, 0, 2000);
    const segFile = dir('lesion.seg.dcm');
    await writeDicomSegNode(
      { geometry: scan.geometry, data: labels },
      buildDicomSegMetaInfo([{ label: 1, name: 'Lesion', color: [255, 0, 0], visible: true, points: [] }], labels),
      files,
      segFile,
    );
    const result = await outcome(segFile);
    expect('refused' in result && result.refused.reason).toMatch(
      /^it is a DICOM SEG \(a segmentation\) of series 2\.25\.424242; open that series first/,
    );

    // Imported onto the scan it references: same voxels, named segment.
    const header = inspectDicom(readFileSync(segFile));
    if (header.kind !== 'segmentation') throw new Error(`not recognised as a SEG: ${header.kind}`);
    const { segImage, metaInfo } = await readSegmentationNode(segFile);
    const decoded = itkImageToVolume(segImage, 'lesion.seg.dcm');
    const placed = placeLabels(decoded, scan.geometry);
    expect(segMismatch(header.header, '2.25.424242', placed)).toBeNull();
    expect('labels' in placed && placed.labels).toEqual(labels);
    expect(segmentsFromSegMeta(metaInfo, labels).map((s) => [s.label, s.name, s.color])).toEqual([[1, 'Lesion', [255, 0, 0]]]);
    // Another scan (shifted by half a voxel, another series): refused with both series named.
    const other = {
      ...scan.geometry,
      origin: [scan.geometry.origin[0] + 1, scan.geometry.origin[1], scan.geometry.origin[2]] as ImageGeometry['origin'],
    };
    expect(segMismatch(header.header, '2.25.999', placeLabels(decoded, other))).toBe(
      "it is a DICOM SEG of series 2.25.424242, not of the open scan (series 2.25.999), and its voxels do not lie on this scan's voxels; open that series first",
    );
  });

  it('refuses a Siemens mosaic, naming it, alone and as a folder', async () => {
    const files = writeTestDicomSeries(dir('mosaic'), straight, { imageType: 'ORIGINAL\\PRIMARY\\M\\ND\\MOSAIC', modality: 'MR' });
    const result = await outcome(files[0]);
    expect('refused' in result && result.refused.message).toMatch(
      /^IM0001\.dcm: it is a Siemens mosaic \(ImageType ORIGINAL\\PRIMARY\\M\\ND\\MOSAIC\)/,
    );
    const folder = await outcome(dir('mosaic'));
    expect('refused' in folder && folder.refused.message).toBe(
      'mosaic: no DICOM image series found in this folder (12 files skipped: 12 Siemens mosaic.)',
    );
  });

  // A 4D series (fMRI time points, diffusion directions, echoes) repeats every slice position:
  // ITK stacked all its images as slices (or failed on several multi-frame files), as pydicom sees.
  it('refuses a 4D series of single-frame files, saying how many volumes it holds', async () => {
    const series = { seriesInstanceUid: '2.25.4444' };
    const volumes = [
      encodeDicomSeries(straight.geometry, straight.data, series),
      encodeDicomSeries(straight.geometry, straight.data, series),
    ];
    mkdirSync(dir('4d'));
    volumes.flat().forEach((bytes, n) => writeFileSync(path.join(dir('4d'), `IM${String(n + 1).padStart(4, '0')}.dcm`), bytes));
    const result = await outcome(dir('4d'));
    const fourD = 'it holds 2 volumes at the same 12 slice positions (a 4D series: time points, diffusion directions or echoes)';
    expect('refused' in result && result.refused.message).toBe(`DICOM series (24 files): ${fourD}; only single 3D volumes are supported`);
    expect(pydicomGeometry([dir('4d')])[dir('4d')]).toEqual({ volumes: 2, positions: 12 });
    // A slice missing from one volume: still not one volume.
    rmSync(path.join(dir('4d'), 'IM0005.dcm'));
    expect(await outcome(dir('4d'))).toMatchObject({
      refused: {
        reason:
          '11 of its 23 slices lie at the position of another slice (mixed acquisitions or an incomplete 4D series); only single 3D volumes are supported',
      },
    });
  });

  it('refuses a 4D enhanced multi-frame file, and a series of one enhanced file per time point', async () => {
    const twice = [...Array(12).keys(), ...Array(12).keys()];
    writeFileSync(dir('enhanced-4d.dcm'), encodeEnhancedDicom(straight.geometry, straight.data, { frameOrder: twice }));
    const single = await outcome(dir('enhanced-4d.dcm'));
    expect('refused' in single && single.refused.message).toMatch(/^enhanced-4d\.dcm: it holds 2 volumes at the same 12 slice positions/);
    mkdirSync(dir('enhanced-series'));
    for (const n of [1, 2, 3]) {
      const bytes = encodeEnhancedDicom(straight.geometry, straight.data, { seriesInstanceUid: '2.25.5555' });
      writeFileSync(path.join(dir('enhanced-series'), `${n}.dcm`), bytes);
    }
    const series = await outcome(dir('enhanced-series'));
    expect('refused' in series && series.refused.message).toMatch(
      /^DICOM series \(3 files\): it holds 3 volumes at the same 12 slice positions/,
    );
    expect(pydicomGeometry([dir('enhanced-series')])[dir('enhanced-series')]).toEqual({ volumes: 3, positions: 12 });
  });

  it('refuses a file whose SOP class UIDs are both damaged, naming it (the browser decoder never answered on it)', async () => {
    const bytes = encodeEnhancedDicom(straight.geometry, straight.data);
    const latin1 = new TextDecoder('latin1').decode(bytes);
    const uid = '1.2.840.10008.5.1.4.1.1.2.1';
    // The meta header's (0002,0002) comes first, the dataset's (0008,0016) second.
    const [meta, dataset] = [latin1.indexOf(uid), latin1.indexOf(uid, latin1.indexOf(uid) + 1)];
    const damage = (...at: number[]) => {
      const copy = bytes.slice();
      for (const n of at) copy[n + 13] = '>'.charCodeAt(0);
      return copy;
    };
    writeFileSync(dir('sop-both.dcm'), damage(meta, dataset));
    const both = await outcome(dir('sop-both.dcm'));
    expect('refused' in both && both.refused.message).toBe(
      'sop-both.dcm: invalid header: its SOP Class UID "1.2.840.10008>5.1.4.1.1.2.1" is not a UID',
    );
    // One intact SOP class is enough for ITK: such a file still opens.
    writeFileSync(dir('sop-dataset.dcm'), damage(dataset));
    expect(await outcome(dir('sop-dataset.dcm'))).toMatchObject({ loaded: { size: [32, 28, 12] } });
  });

  it.each([
    ['in order', undefined],
    ['stored in reverse', [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
  ])('reads an enhanced multi-frame CT with its frames %s at pydicom geometry', async (_, frameOrder) => {
    const file = dir(`enhanced-${frameOrder ? 'reverse' : 'forward'}.dcm`);
    writeFileSync(file, encodeEnhancedDicom(source.geometry, source.data, { frameOrder }));
    const result = await outcome(file);
    expectSameGrid((result as { loaded: ImageGeometry }).loaded, pydicomGeometry([file])[file] as ImageGeometry, 'enhanced');
    const volume = await readImageNode(file);
    expect(voxelAtWorld(volume, source, [5, 7, 2])).toBe(source.data[5 + 7 * 32 + 2 * 32 * 28]);
  });

  it('fills a missing slice by interpolation onto the grid pydicom computes, with a warning', async () => {
    const files = writeTestDicomSeries(dir('missing'), source);
    rmSync(files[4]);
    rmSync(files[5]);
    const result = await outcome(dir('missing'));
    expect('loaded' in result && result.warnings).toEqual([
      '2 slices are missing (gaps from 3 mm to 9 mm); the scan was resampled onto a regular grid of 3 mm slices.',
    ]);
    expectSameGrid(
      (result as { loaded: ImageGeometry }).loaded,
      pydicomGeometry([dir('missing')])[dir('missing')] as ImageGeometry,
      'missing',
    );
    const volume = await readImageNode(dir('missing'));
    // Acquired slices keep their voxels; the missing ones lie between their neighbours.
    expect(voxelAtWorld(volume, source, [10, 10, 3])).toBe(source.data[10 + 10 * 32 + 3 * 32 * 28]);
    expect(voxelAtWorld(volume, source, [10, 10, 6])).toBe(source.data[10 + 10 * 32 + 6 * 32 * 28]);
  });

  it('undoes a CT gantry tilt onto the grid pydicom computes, with a warning', async () => {
    writeTestDicomSeries(dir('tilt'), straight, { gantryTiltDegrees: 15 });
    const result = await outcome(dir('tilt'));
    expect('loaded' in result && result.warnings).toEqual([
      'The slices are sheared (CT gantry tilt of 15°); the scan was resampled onto a regular grid of 3 mm slices.',
    ]);
    expectSameGrid((result as { loaded: ImageGeometry }).loaded, pydicomGeometry([dir('tilt')])[dir('tilt')] as ImageGeometry, 'tilt');
  });
});

/** The value `volume` holds at the world position of voxel `ijk` of `reference`. */
function voxelAtWorld(volume: Volume, reference: Volume, ijk: number[]): number {
  const r = reference.geometry;
  const world = [0, 1, 2].map((w) => r.origin[w] + [0, 1, 2].reduce((sum, a) => sum + r.direction[3 * a + w] * r.spacing[a] * ijk[a], 0));
  const g = volume.geometry;
  // Solve world = origin + D * S * index (D orthonormal: its transpose inverts it).
  const index = [0, 1, 2].map((a) =>
    Math.round([0, 1, 2].reduce((sum, w) => sum + g.direction[3 * a + w] * (world[w] - g.origin[w]), 0) / g.spacing[a]),
  );
  return volume.data[index[0] + g.size[0] * (index[1] + g.size[1] * index[2])];
}
