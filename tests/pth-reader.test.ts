// The checkpoint reader against real torch.save files: the in-repo fixture (float16), a file mixing dtypes and
// strided views with non-weight entries, and the hostile corpus (tests/support/pth-make-test-data.py).
import { execFileSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openFileSource } from '../src/cli/file-byte-source';
import { blobSource, bytesSource } from '../src/core/pth/byte-source';
import { Checkpoint } from '../src/core/pth/checkpoint';
import { CheckpointError } from '../src/core/pth/errors';
import { MINI } from './support/fixtures';

const FIXTURE_CHECKPOINT = MINI.checkpoint;

const DATA = '.cache/pth-tests';

interface TensorStats {
  shape: number[];
  sum: number;
  first: number[];
  last: number;
}

beforeAll(() => {
  execFileSync('/usr/bin/python3', ['tests/support/pth-make-test-data.py', DATA, FIXTURE_CHECKPOINT], { stdio: 'inherit' });
});

async function readJson<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(join(DATA, name), 'utf8')) as T;
}

function sum(data: Float32Array): number {
  let total = 0;
  for (const value of data) total += value;
  return total;
}

describe('the in-repo fixture checkpoint', () => {
  it('reads every model_state_dict tensor with the values torch reads', async () => {
    const stats = await readJson<Record<string, TensorStats>>('fixture-stats.json');
    const source = await openFileSource(FIXTURE_CHECKPOINT);
    try {
      const checkpoint = await Checkpoint.open(source);
      expect([...checkpoint.tensors.keys()]).toEqual(Object.keys(stats));
      const progress: number[] = [];
      const tensors = await checkpoint.loadStateDict((done, total) => progress.push(done / total));
      expect(progress.at(-1)).toBe(1);
      for (const [name, expected] of Object.entries(stats)) {
        const tensor = tensors.get(name)!;
        expect(tensor.shape, name).toEqual(expected.shape);
        expect(tensor.data.length).toBe(expected.shape.reduce((a, b) => a * b, 1));
        expect([...tensor.data.subarray(0, 4)], name).toEqual(expected.first);
        expect(tensor.data.at(-1), name).toBe(expected.last);
        expect(sum(tensor.data), name).toBeCloseTo(expected.sum, 6);
      }
    } finally {
      await source.close();
    }
  });

  it('gives the same tensors and content fingerprint through a Blob (browser file input) and an in-memory buffer', async () => {
    const name = 'mask_decoder.output_upscaling.0.weight';
    const fromBlob = await (await Checkpoint.open(blobSource(await openAsBlob(FIXTURE_CHECKPOINT)))).readTensor(name);
    const fromBytes = await (await Checkpoint.open(bytesSource(await readFile(FIXTURE_CHECKPOINT)))).readTensor(name);
    const stats = await readJson<Record<string, TensorStats>>('fixture-stats.json');
    expect(fromBlob.shape).toEqual(stats[name].shape);
    const fingerprint = (await readFile(join(DATA, 'fixture-fingerprint.txt'), 'utf8')).trim();
    expect((await Checkpoint.open(blobSource(await openAsBlob(FIXTURE_CHECKPOINT)))).fingerprint).toBe(fingerprint);
    expect((await Checkpoint.open(bytesSource(await readFile(join(DATA, 'mixed.pth'))))).fingerprint).not.toBe(fingerprint);
    expect(fromBlob.data).toEqual(fromBytes.data);
    expect(sum(fromBlob.data)).toBeCloseTo(stats[name].sum, 6);
  });
});

describe('mixed checkpoint', () => {
  it('converts dtypes and resolves strides, offsets and shared storages; skips non-weight entries', async () => {
    const expected = await readJson<Record<string, { shape: number[]; values: number[] }>>('mixed.json');
    const checkpoint = await Checkpoint.open(bytesSource(await readFile(join(DATA, 'mixed.pth'))));
    const tensors = await checkpoint.loadStateDict();
    expect([...tensors.keys()]).toEqual(Object.keys(expected));
    for (const [name, { shape, values }] of Object.entries(expected)) {
      expect(tensors.get(name)!.shape, name).toEqual(shape);
      expect([...tensors.get(name)!.data], name).toEqual(values.map(Math.fround));
    }
  });

  it('reads the state dict under another key on request, and names the keys when it is missing', async () => {
    const bytes = await readFile(join(DATA, 'mixed.pth'));
    await expect(Checkpoint.open(bytesSource(bytes), { stateDictKey: 'model' })).rejects.toThrow(
      /no state dict under "model" \(top-level keys: epoch, model_state_dict, optimizer_state_dict/,
    );
  });
});

describe('hostile corpus', () => {
  it('refuses every malformed or malicious file with a clear message', async () => {
    const cases = await readJson<Record<string, string>>('hostile.json');
    expect(Object.keys(cases).length).toBeGreaterThan(15);
    for (const [file, message] of Object.entries(cases)) {
      const load = async () => (await Checkpoint.open(bytesSource(await readFile(join(DATA, 'hostile', file))))).loadStateDict();
      const error = await load().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error, file).toBeInstanceOf(CheckpointError);
      expect((error as Error).message, file).toContain(message);
    }
  });
});

describe('mutated checkpoints', () => {
  it('either load or fail with a CheckpointError, never another exception', async () => {
    const original = await readFile(join(DATA, 'template', 'checkpoint.pth'));
    let seed = 12345;
    const random = (limit: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % limit;
    };
    const outcomes = { loaded: 0, refused: 0 };
    for (let trial = 0; trial < 3000; trial++) {
      const bytes = Uint8Array.from(original);
      // Every other trial aims at the first 600 bytes: the local header and the pickle.
      const span = trial % 2 === 0 ? 600 : bytes.length;
      for (let flips = 1 + random(3); flips > 0; flips--) bytes[random(span)] = random(256);
      try {
        await (await Checkpoint.open(bytesSource(bytes))).loadStateDict();
        outcomes.loaded++;
      } catch (error) {
        if (!(error instanceof CheckpointError)) throw error;
        outcomes.refused++;
      }
    }
    console.log('mutated checkpoints:', outcomes);
    expect(outcomes.refused).toBeGreaterThan(100);
  });
});
