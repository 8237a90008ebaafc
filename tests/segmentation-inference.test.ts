/**
 * The inference worker's service and the model loader, in Node on onnxruntime-web's WASM backend
 * (Node has no WebGPU), with the oracle model (segments the bright object under a positive click).
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModelRunFlags, isBusy, type BusyFlag } from '../src/core/busy-flag';
import type { ImageGeometry, Vec3 } from '../src/core/types';
import { loadModelFromFiles, loadModelFromUrl } from '../src/inference/exported-model';
import { InferenceService } from '../src/workers/inference-service';
import type { MaskPart, SegmentResult } from '../src/workers/inference-api';
import { dice } from '../src/core/engine/evaluation';
import { Segmentation } from '../src/core/segmentation/segmentation';
import type { SegmentPoint } from '../src/core/segmentation/segments';

const ORACLE_DIR = '.cache/models/oracle';
const haveOracle = existsSync(join(ORACLE_DIR, 'decoder.onnx')) && existsSync(join(ORACLE_DIR, 'encoder.onnx'));

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let server: Server;
let baseUrl: string;
const served = mkdtempSync(join(tmpdir(), 'models-'));
const requests: string[] = [];

beforeAll(async () => {
  if (!haveOracle) return;
  const encoder = readFileSync(join(ORACLE_DIR, 'encoder.onnx'));
  const decoder = readFileSync(join(ORACLE_DIR, 'decoder.onnx'));
  const put = (dir: string, files: Record<string, Uint8Array | string>) => {
    rmSync(join(served, dir), { recursive: true, force: true });
    for (const [name, data] of Object.entries(files)) {
      const path = join(served, dir, name);
      mkdirSync(join(served, dir), { recursive: true });
      writeFileSync(path, data);
    }
  };
  put('good', {
    'encoder.onnx': encoder,
    'decoder.onnx': decoder,
    'model.json': JSON.stringify({
      name: 'oracle',
      encoder: { file: 'encoder.onnx', sha256: sha256(encoder) },
      decoder: { file: 'decoder.onnx', sha256: sha256(decoder) },
    }),
  });
  // The oracle's encoder stands in for an int8 one (export.py --int8): the app only reads model.json's entry.
  put('int8', {
    'encoder.onnx': encoder,
    'decoder.onnx': decoder,
    'encoder_int8.onnx': encoder,
    'model.json': JSON.stringify({
      encoder: { file: 'encoder.onnx', sha256: sha256(encoder) },
      decoder: { file: 'decoder.onnx', sha256: sha256(decoder) },
      encoder_int8: { file: 'encoder_int8.onnx', sha256: sha256(encoder) },
    }),
  });
  put('unverified', { 'encoder.onnx': encoder, 'decoder.onnx': decoder });
  put('corrupt', {
    'encoder.onnx': encoder,
    'decoder.onnx': decoder.subarray(0, decoder.length - 1),
    'model.json': JSON.stringify({ encoder: { sha256: sha256(encoder) }, decoder: { sha256: sha256(decoder) } }),
  });
  put('incomplete', { 'encoder.onnx': encoder });
  // Graph files named by model.json.
  put('renamed', {
    'enc.onnx': encoder,
    'dec.onnx': decoder,
    'model.json': JSON.stringify({
      encoder: { file: 'enc.onnx', sha256: sha256(encoder) },
      decoder: { file: 'dec.onnx', sha256: sha256(decoder) },
    }),
  });
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const path = join(served, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    if (!path.startsWith(served) || !existsSync(path)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
  rmSync(served, { recursive: true, force: true });
});

describe.skipIf(!haveOracle)('model loading', () => {
  it('downloads both graphs with progress and checks them against model.json', async () => {
    const progress: string[] = [];
    const model = await loadModelFromUrl(`${baseUrl}/good`, { onProgress: (p) => progress.push(`${p.phase}:${p.file}`) });
    expect(model.verified).toBe(true);
    expect(model.manifest?.name).toBe('oracle');
    expect(sha256(model.decoder)).toBe(sha256(readFileSync(join(ORACLE_DIR, 'decoder.onnx'))));
    // Node has no model store (OPFS, Cache Storage): nothing to read again from, the bytes are kept.
    expect(model.reread.decoder).toBeUndefined();
    expect(progress).toContain('download:encoder.onnx');
    expect(progress).toContain('verify:decoder.onnx');
  });

  it('fetches the graph files model.json names', async () => {
    const model = await loadModelFromUrl(`${baseUrl}/renamed`);
    expect(model.verified).toBe(true);
    expect(requests).toContain('/renamed/enc.onnx');
  });

  it('downloads the int8 encoder model.json lists only when asked for, and checks it', async () => {
    const model = await loadModelFromUrl(`${baseUrl}/int8`);
    expect(requests).not.toContain('/int8/encoder_int8.onnx');
    expect(sha256(await model.encoderInt8!())).toBe(sha256(readFileSync(join(ORACLE_DIR, 'encoder.onnx'))));
    expect(requests).toContain('/int8/encoder_int8.onnx');
    expect((await loadModelFromUrl(`${baseUrl}/good`)).encoderInt8).toBeUndefined();
  });

  it('works without model.json, unverified', async () => {
    const model = await loadModelFromUrl(`${baseUrl}/unverified/`);
    expect(model.verified).toBe(false);
    expect(model.manifest).toBeNull();
  });

  it('refuses a graph whose digest does not match, and says why', async () => {
    await expect(loadModelFromUrl(`${baseUrl}/corrupt`)).rejects.toThrow(/decoder\.onnx does not match model\.json \(SHA-256/);
  });

  it('names the missing file', async () => {
    await expect(loadModelFromUrl(`${baseUrl}/incomplete`)).rejects.toThrow(/decoder\.onnx .*HTTP 404/);
  });

  it('reads local files, checking a given model.json', async () => {
    const encoder = readFileSync(join(ORACLE_DIR, 'encoder.onnx'));
    const decoder = readFileSync(join(ORACLE_DIR, 'decoder.onnx'));
    const manifest = new Blob([JSON.stringify({ encoder: { sha256: sha256(encoder) }, decoder: { sha256: sha256(decoder) } })]);
    const model = await loadModelFromFiles({ encoder: new Blob([encoder]), decoder: new Blob([decoder]), manifest });
    expect(model.verified).toBe(true);
    // The picked file is read again for a later session instead of keeping its bytes.
    const again = await model.reread.encoder!();
    expect(again).not.toBe(model.encoder);
    expect(sha256(again!)).toBe(sha256(encoder));
    await expect(loadModelFromFiles({ encoder: new Blob([decoder]), decoder: new Blob([decoder]), manifest })).rejects.toThrow(
      /encoder\.onnx does not match/,
    );
    await expect(
      loadModelFromFiles({ encoder: new Blob([encoder]), decoder: new Blob([decoder]), manifest: new Blob(['{']) }),
    ).rejects.toThrow(/model\.json is not a valid model description/);
  });
});

/** Two bright balls in a dark body on an anisotropic grid; returns the volume and each ball's truth. */
function twoBalls(): { geometry: ImageGeometry; data: Int16Array; truth: Uint8Array[]; centers: Vec3[] } {
  const geometry: ImageGeometry = {
    size: [64, 56, 40],
    spacing: [1.2, 1.2, 2.5],
    origin: [-30, 20, 5],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  };
  const [nx, ny, nz] = geometry.size;
  const centers: Vec3[] = [
    [20, 28, 20],
    [46, 26, 18],
  ];
  const radiusMm = 12;
  const data = new Int16Array(nx * ny * nz);
  const truth = centers.map(() => new Uint8Array(nx * ny * nz));
  for (let k = 0, o = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, o++) {
        data[o] = 40; // soft tissue
        centers.forEach((c, n) => {
          const d2 = ((i - c[0]) * 1.2) ** 2 + ((j - c[1]) * 1.2) ** 2 + ((k - c[2]) * 2.5) ** 2;
          if (d2 <= radiusMm ** 2) {
            data[o] = 300;
            truth[n][o] = 1;
          }
        });
      }
  return { geometry, data, truth, centers };
}

/** Atomics.waitAsync: in Node since 16, in the ES2024 lib (this config has ES2023). */
const waitAsync = (
  Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeout: number): { value: Promise<string> } }
).waitAsync;

function done(result: SegmentResult): SegmentResult & { status: 'done' } {
  expect(result.status).toBe('done');
  return result as SegmentResult & { status: 'done' };
}

describe.skipIf(!haveOracle)('inference service (WASM backend)', () => {
  const phantom = twoBalls();
  const service = new InferenceService();
  // The UI's labelmap, fresh for each test (segments of different tests overlap).
  let labelmap: Segmentation;
  beforeEach(() => {
    labelmap = new Segmentation(phantom.geometry);
  });

  /** Runs a request the way the UI does: each part into a labelmap transaction as it comes, then the rest, committed as one step. */
  async function segment(label: number, points: SegmentPoint[]): Promise<SegmentResult> {
    while (!labelmap.segment(label)) labelmap.addSegment();
    const transaction = labelmap.begin();
    const result = await service.segment({ objectId: String(label), points }, (progress) => {
      if (progress.part) transaction.writeMask(label, progress.part);
    });
    if (result.status !== 'done') {
      transaction.rollback();
      return result;
    }
    if (result.region) transaction.writeMask(label, { region: result.region, mask: result.mask });
    transaction.commit({ label, points });
    return result;
  }

  const segmentDice = (label: number, truth: Uint8Array) =>
    dice(
      labelmap.labels.map((v) => (v === label ? 1 : 0)),
      truth,
    );

  beforeAll(async () => {
    const loaded = await service.loadModel({ kind: 'url', url: `${baseUrl}/good` });
    expect(loaded.backend.backend).toBe('wasm');
    expect(loaded.backend.note).toMatch(/No WebGPU/);
    await service.setVolume('two-balls', phantom.geometry, phantom.data.slice());
  });

  it('pre-encodes the patch under the cursor so the first click runs only the decoder', async () => {
    expect(await service.preEncode(phantom.centers[0])).toBe(true);
    expect(await service.preEncode(phantom.centers[0])).toBe(false);
    const result = done(await segment(1, [{ index: phantom.centers[0], positive: true }]));
    expect(result.patchesEncoded).toBe(0);
    expect(segmentDice(1, phantom.truth[0])).toBeGreaterThanOrEqual(0.9);
  });

  it('raises the decoding and encoding flags while the decoder and the encoder run, and lowers them after', async () => {
    const flags = createModelRunFlags();
    service.announceRunsIn(flags);
    // whileBusy notifies waiters of each change: each resolves when its flag first goes up.
    const raised = (flag: BusyFlag | null) => waitAsync(flag!, 0, 0, 60_000).value;
    const [decoding, encoding] = [raised(flags.decoding), raised(flags.encoding)];
    // The same voxels again under a new id: the click encodes its patch, then decodes.
    await service.setVolume('two-balls-again', phantom.geometry, phantom.data.slice());
    expect(done(await segment(3, [{ index: phantom.centers[1], positive: true }])).patchesEncoded).toBeGreaterThan(0);
    // Raised during the click: resolved by now; never raised: it would wait out its timeout.
    const never = new Promise((resolve) => setTimeout(() => resolve('never raised'), 1000));
    expect(await Promise.race([decoding, never])).toBe('ok');
    expect(await Promise.race([encoding, never])).toBe('ok');
    expect(isBusy(flags.decoding)).toBe(false);
    expect(isBusy(flags.encoding)).toBe(false);
  });

  it('a newer request wins over a running one', async () => {
    const first = segment(2, [{ index: phantom.centers[1], positive: true }]);
    const second = segment(2, [{ index: [phantom.centers[1][0] + 1, phantom.centers[1][1], phantom.centers[1][2]], positive: true }]);
    expect((await first).status).toBe('superseded');
    done(await second);
    expect(segmentDice(2, phantom.truth[1])).toBeGreaterThanOrEqual(0.9);
  });

  it('replays an object from its points after an undo, and clears a removed mask', async () => {
    const p1 = { index: phantom.centers[0], positive: true };
    const p2 = { index: [phantom.centers[0][0] + 2, phantom.centers[0][1], phantom.centers[0][2]] as Vec3, positive: false };
    done(await segment(3, [p1]));
    const afterOne = labelmap.labels.slice();
    const countOne = labelmap.voxelCount(3);
    expect(countOne).toBeGreaterThan(0);
    done(await segment(3, [p1, p2]));
    expect(labelmap.voxelCount(3)).toBeLessThan(countOne);
    // Undo of the negative click, then the same single point again: the worker replays the object
    // (from an empty mask, clearing where it was) and gives exactly the first mask.
    labelmap.undo();
    const replayed = done(await segment(3, [p1]));
    expect(replayed.region).not.toBeNull();
    expect(Buffer.from(labelmap.labels).equals(Buffer.from(afterOne))).toBe(true);
    // No points: the object's voxels are cleared, then there is nothing left to change.
    done(await segment(3, []));
    expect(labelmap.voxelCount(3)).toBe(0);
    expect(done(await service.segment({ objectId: '3', points: [] })).region).toBeNull();
  });

  it("sends each patch's part with the progress, then only what the parts did not say", async () => {
    const parts: MaskPart[] = [];
    const result = done(
      await service.segment({ objectId: '5', points: [{ index: phantom.centers[1], positive: true }] }, (progress) => {
        if (progress.part) parts.push(progress.part);
      }),
    );
    // At least one part per patch (a large footprint comes as several slabs), the clicked slice first.
    expect(parts.length).toBeGreaterThanOrEqual(result.patchesRun);
    const clickK = phantom.centers[1][2];
    expect(parts[0].region.min[2] <= clickK && clickK <= parts[0].region.max[2]).toBe(true);
    expect(result.region).toBeNull();
    expect(parts[0].mask.length).toBe(parts[0].region.max.reduce((n, v, a) => n * (v - parts[0].region.min[a] + 1), 1));
  });

  it('cancel() stops the running request', async () => {
    const running = segment(4, [{ index: [10, 10, 10], positive: true }]);
    service.cancel();
    expect((await running).status).toBe('cancelled');
    // The object is replayed cleanly next time.
    done(await segment(4, [{ index: phantom.centers[1], positive: true }]));
    expect(segmentDice(4, phantom.truth[1])).toBeGreaterThanOrEqual(0.9);
  });

  it('switches backend on request and refuses WebGPU where there is none', async () => {
    expect((await service.backendInfo())?.backend).toBe('wasm');
    await expect(service.switchBackend('webgpu')).rejects.toThrow(/WebGPU cannot be used/);
  });

  it('reports requests before a model or volume clearly', async () => {
    const empty = new InferenceService();
    await expect(empty.segment({ objectId: '1', points: [] })).rejects.toThrow(/No model is loaded/);
    expect(requests.some((url) => url.includes('model.json'))).toBe(true);
  });
});

describe.skipIf(!haveOracle)('encoder precision (WASM backend)', () => {
  it('runs the int8 encoder once chosen, and encodes again instead of using the fp32 embeddings', async () => {
    const service = new InferenceService();
    const loaded = await service.loadModel({ kind: 'url', url: `${baseUrl}/int8` });
    expect(loaded.backend).toMatchObject({ encoderPrecision: 'fp32', int8Available: true });
    const phantom = twoBalls();
    await service.setVolume('two-balls', phantom.geometry, phantom.data.slice());
    expect(await service.preEncode(phantom.centers[0])).toBe(true);
    expect(service.memoryReport().embeddingBytes).toBeGreaterThan(0);
    expect(await service.setEncoderPrecision('int8')).toMatchObject({ backend: 'wasm', encoderPrecision: 'int8' });
    expect(service.memoryReport().embeddingBytes).toBe(0);
    const result = done(await service.segment({ objectId: '1', points: [{ index: phantom.centers[0], positive: true }] }));
    expect(result.patchesEncoded).toBe(1);
    expect((await service.setEncoderPrecision('fp32')).encoderPrecision).toBe('fp32');
  });

  it('offers no int8 encoder for a model without one', async () => {
    const service = new InferenceService();
    const loaded = await service.loadModel({ kind: 'url', url: `${baseUrl}/good` });
    expect(loaded.backend.int8Available).toBe(false);
    await expect(service.setEncoderPrecision('int8')).rejects.toThrow(/no int8 encoder/);
  });
});
