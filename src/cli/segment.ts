/** `sam-med3d segment`: clicks on an image file -> mask file on the image's own grid. */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { SegmentationSession } from '../core/engine/session';
import type { Vec3 } from '../core/types';
import { readImageNode, writeImageNode } from '../io/node';
import { CliError } from './errors';
import { openModel, type ModelSource } from './model-source';

export interface Click {
  point: Vec3;
  positive: boolean;
}

export interface SegmentArgs {
  model: ModelSource;
  image: string;
  out: string;
  clicks: Click[];
  maxPatches: number;
}

const MASK_EXTENSIONS = /\.(nii|nii\.gz|nrrd)$/i;

/** Fails early (before any inference) when OUT cannot be written. */
export async function checkOutputPath(out: string, pattern: RegExp, expected: string): Promise<void> {
  if (!pattern.test(out)) throw new CliError(`--out ${out}: expected ${expected}`);
  await access(path.dirname(path.resolve(out))).catch(() => {
    throw new CliError(`--out ${out}: folder ${path.dirname(path.resolve(out))} does not exist`);
  });
}

export async function segmentCommand(args: SegmentArgs): Promise<void> {
  await checkOutputPath(args.out, MASK_EXTENSIONS, 'a .nii, .nii.gz or .nrrd file name');
  const volume = await readImageNode(args.image);
  const size = volume.geometry.size;
  for (const { point } of args.clicks) {
    if (!point.every((v, axis) => v >= 0 && v < size[axis])) {
      throw new CliError(`point ${point.join(',')} is outside ${path.basename(args.image)} (size ${size.join(' x ')}; indices start at 0)`);
    }
  }
  const runner = await openModel(args.model);
  try {
    const session = new SegmentationSession(volume, runner, { volumeId: args.image, maxPatches: args.maxPatches });
    const started = performance.now();
    let result;
    for (const click of args.clicks) {
      result = await session.addClick('object', click.point, click.positive, {
        onProgress: (p) => process.stderr.write(`  patch ${p.patchesDone}/${p.maxPatches}${p.encoded ? ' (encoded)' : ''}\n`),
      });
    }
    if (!result) return;
    await writeImageNode(result.mask, args.out);
    let voxels = 0;
    for (const v of result.mask.data) voxels += v;
    const [sx, sy, sz] = volume.geometry.spacing;
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    process.stdout.write(
      `${args.out}: ${voxels} voxels (${((voxels * sx * sy * sz) / 1000).toFixed(1)} mL), ${args.clicks.length} click(s), ${seconds} s\n`,
    );
  } finally {
    await runner.dispose();
  }
}
