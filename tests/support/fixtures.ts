/**
 * The fidelity fixtures: outputs of the official SAM-Med3D code on random weights.
 * - mini: in the repository (tests/fixtures/sam-med3d-mini, written by models/make_fixture.py); every
 *   fidelity test runs on it.
 * - fixture-a: a wider encoder and the turbo-sized decoder, in ../shared beside the repository when
 *   present; the tests that read it are an extra check, skipped with a note when it is absent.
 * scripts/prepare-test-models.sh exports each present fixture to .cache/models/<name>{,-plain}.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy } from './npy';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface FixtureFiles {
  name: 'mini' | 'fixture-a';
  dir: string;
  checkpoint: string;
  /** Its ONNX export (optimized encoder); `${model}-plain` has the plain encoder. */
  model: string;
  present: boolean;
}

function fixture(name: FixtureFiles['name'], dir: string): FixtureFiles {
  return {
    name,
    dir,
    checkpoint: path.join(dir, 'checkpoint.pth'),
    model: `.cache/models/${name}`,
    present: existsSync(path.join(dir, 'meta.json')),
  };
}

export const MINI = fixture('mini', path.join(REPO_ROOT, 'tests/fixtures/sam-med3d-mini'));
export const FIXTURE_A = fixture('fixture-a', path.resolve(REPO_ROOT, '../shared/fixtures/sam-med3d/fixture-a'));
export const FIDELITY_FIXTURES = [MINI, FIXTURE_A];

/** True (after saying so) when the fixture is absent and its tests must be skipped. */
export function skipAbsent(f: FixtureFiles): boolean {
  if (!f.present) console.warn(`fidelity fixture ${f.name} is not present at ${f.dir}: its extra check is skipped`);
  return !f.present;
}

/**
 * `name`.npy (or .npy.gz) of a fixture; a quantized array (meta.json `name`: { scale, offset }) comes
 * back as its exact float32 values (q - offset) * scale, the values the official code ran on.
 */
export function readFixtureArray(f: FixtureFiles, name: string): Float32Array | Uint8Array {
  const plain = path.join(f.dir, `${name}.npy`);
  const { data } = readNpy(existsSync(plain) ? plain : `${plain}.gz`);
  const quantized = (JSON.parse(readFileSync(path.join(f.dir, 'meta.json'), 'utf8')) as Record<string, unknown>)[name];
  if (quantized && typeof quantized === 'object' && 'scale' in quantized) {
    const { scale, offset } = quantized as { scale: number; offset: number };
    return Float32Array.from(data, (q) => (q - offset) * scale);
  }
  return data;
}

export function readFixtureFloat32(f: FixtureFiles, name: string): Float32Array {
  const data = readFixtureArray(f, name);
  if (!(data instanceof Float32Array)) throw new Error(`${f.name}/${name}: expected float32`);
  return data;
}

export function readFixtureMask(f: FixtureFiles, name: string): Uint8Array {
  const data = readFixtureArray(f, name);
  if (!(data instanceof Uint8Array)) throw new Error(`${f.name}/${name}: expected uint8`);
  return data;
}
