// Reading a checkpoint from an HTTP server with Range support (standing in for the model hub):
// the 50 MB fake optimizer state next to the weights must never be downloaded.
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHttpSource } from '../src/core/pth/byte-source';
import { Checkpoint } from '../src/core/pth/checkpoint';
import { MINI } from './support/fixtures';

const FIXTURE_CHECKPOINT = MINI.checkpoint;

const DATA = '.cache/pth-tests';
const FILE = `${DATA}/with-optimizer.pth`;

/** Serves FILE; honours single "bytes=a-b" ranges unless `ignoreRanges`. Counts requests and body bytes sent. */
function startServer(ignoreRanges: boolean): Promise<{ server: Server; url: string; served: () => number; requests: () => number }> {
  let served = 0;
  let requests = 0;
  const server = createServer((request, response) => {
    requests++;
    void stat(FILE).then(({ size }) => {
      const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
      let start = 0;
      let end = size - 1;
      if (range && !ignoreRanges) {
        start = Number(range[1]);
        end = Math.min(Number(range[2]), size - 1);
        response.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
      } else {
        response.writeHead(200, { 'Content-Length': size });
      }
      served += end - start + 1;
      createReadStream(FILE, { start, end }).pipe(response);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/sam_med3d_turbo.pth`, served: () => served, requests: () => requests });
    });
  });
}

interface TensorStats {
  shape: number[];
  sum: number;
}

let fileSize = 0;
let stats: Record<string, TensorStats>;
const servers: Server[] = [];

beforeAll(async () => {
  execFileSync('/usr/bin/python3', ['tests/support/pth-make-test-data.py', DATA, FIXTURE_CHECKPOINT], { stdio: 'inherit' });
  fileSize = (await stat(FILE)).size;
  stats = JSON.parse(await readFile(`${DATA}/fixture-stats.json`, 'utf8')) as Record<string, TensorStats>;
});

afterAll(() => {
  for (const server of servers) server.close();
});

function expectFixtureTensors(tensors: Map<string, { shape: number[]; data: Float32Array }>): void {
  expect([...tensors.keys()]).toEqual(Object.keys(stats));
  for (const [name, expected] of Object.entries(stats)) {
    const tensor = tensors.get(name)!;
    expect(tensor.shape, name).toEqual(expected.shape);
    expect(
      tensor.data.reduce((a, b) => a + b, 0),
      name,
    ).toBeCloseTo(expected.sum, 3);
  }
}

describe('checkpoint over HTTP', () => {
  it('downloads only the directory, the pickle and the model tensors with Range requests', async () => {
    const { server, url, served, requests } = await startServer(false);
    servers.push(server);
    const source = await openHttpSource(url);
    expect(source.rangesSupported).toBe(true);
    expect(source.size).toBe(fileSize);
    const tensors = await (await Checkpoint.open(source)).loadStateDict();
    expectFixtureTensors(tensors);
    const weightBytes = Object.values(stats).reduce((total, { shape }) => total + 4 * shape.reduce((a, b) => a * b, 1), 0);
    console.log(`served ${served()} of ${fileSize} bytes (${weightBytes} bytes of model weights) in ${requests()} requests`);
    expect(source.bytesFetched).toBe(served());
    expect(served()).toBeLessThan(fileSize * 0.55);
    expect(served()).toBeLessThan(weightBytes * 1.01 + 200_000);
    // Neighbouring storages share a request: size probe, directory tail, pickle, one run of weights.
    expect(requests()).toBeLessThanOrEqual(6);
  });

  it('falls back to one full download when the server ignores Range', async () => {
    const { server, url, served } = await startServer(true);
    servers.push(server);
    const source = await openHttpSource(url);
    expect(source.rangesSupported).toBe(false);
    expectFixtureTensors(await (await Checkpoint.open(source)).loadStateDict());
    expect(served()).toBe(fileSize);
  });

  it('says why when the file cannot be fetched', async () => {
    const { server, url } = await startServer(false);
    servers.push(server);
    await new Promise((resolve) => server.close(resolve));
    await expect(openHttpSource(url)).rejects.toThrow();
  });
});
