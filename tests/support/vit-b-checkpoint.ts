/**
 * The full-size ViT-B configuration with random weights (about 400 MB of float32) and its ONNX
 * export, shared by the tests that need a turbo-sized checkpoint. Cached in .cache/pth-tests/vit-b
 * (about a minute to make) and remade when the generator or the exporter changes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MINI } from './fixtures';

const DIR = '.cache/pth-tests/vit-b';

/** Hash of the given files' contents. */
function stampOf(files: string[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) hash.update(readFileSync(file));
  return hash.digest('hex');
}

/** Runs `make` unless `stampFile` holds `stamp` (then its outputs are up to date). */
function remakeUnlessStamped(stampFile: string, stamp: string, make: () => void): void {
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  make();
  writeFileSync(stampFile, stamp);
}

/** Makes (or reuses) the checkpoint and its export: `exportDir` holds encoder.onnx, decoder.onnx and templates/. */
export function prepareVitB(): { checkpoint: string; exportDir: string } {
  const checkpoint = join(DIR, 'checkpoint.pth');
  const exportDir = join(DIR, 'export');
  mkdirSync(DIR, { recursive: true });
  const meta = join(MINI.dir, 'meta.json');
  const generator = stampOf(['tests/support/pth-make-vit-b.py', meta]);
  remakeUnlessStamped(join(DIR, 'checkpoint.stamp'), generator, () =>
    execFileSync('/usr/bin/python3', ['tests/support/pth-make-vit-b.py', meta, checkpoint]),
  );
  const exporter = [
    'models/export.py',
    ...readdirSync('models/sammed3d')
      .filter((name) => name.endsWith('.py'))
      .map((name) => join('models/sammed3d', name)),
  ];
  remakeUnlessStamped(join(DIR, 'export.stamp'), stampOf(exporter) + generator, () =>
    execFileSync('/usr/bin/python3', ['models/export.py', '--checkpoint', checkpoint, '--out', exportDir], { stdio: 'ignore' }),
  );
  return { checkpoint, exportDir };
}
