/**
 * `sam-med3d` command line: segment an image from clicks, or evaluate a model with simulated
 * clicks against label maps. Same engine as the browser (src/core/engine).
 */
import { parseArgs } from 'node:util';
import { LoadError } from '../core/validate';
import { CliError } from './errors';
import { evaluateCommand } from './evaluate';
import { segmentCommand, type Click } from './segment';

const USAGE = `Usage:
  sam-med3d segment  (--model DIR | --checkpoint FILE) --image IN --point i,j,k [--point i,j,k ...] [--negative i,j,k ...] --out OUT
  sam-med3d evaluate (--model DIR | --checkpoint FILE) --images DIR --labels DIR [--clicks 5] --out REPORT

Options:
  --model DIR         exported model: encoder.onnx, decoder.onnx (model.json optional)
  --checkpoint FILE   official PyTorch checkpoint (sam_med3d_turbo.pth), used as is: no Python
  --templates DIR     graph templates matching --checkpoint (default: the shipped ones for
                      sam_med3d_turbo; other configurations: DIR/templates of an export)
  --point i,j,k       positive click at voxel (i, j, k) of the input image; repeatable
  --negative i,j,k    negative click; clicks run in the order given
  --out OUT           segment: mask file (.nii, .nii.gz or .nrrd) on the input's grid;
                      evaluate: report path, writes OUT.json and OUT.csv
  --clicks N          evaluate: simulated clicks per object (default 5)
  --max-patches N     patches one click may follow a large target across (default 8)
`;

const OPTIONS = {
  model: { type: 'string' },
  checkpoint: { type: 'string' },
  templates: { type: 'string' },
  image: { type: 'string' },
  images: { type: 'string' },
  labels: { type: 'string' },
  point: { type: 'string', multiple: true },
  negative: { type: 'string', multiple: true },
  out: { type: 'string' },
  clicks: { type: 'string' },
  'max-patches': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parsePoint(text: string, option: string): [number, number, number] {
  const match = /^\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*$/.exec(text);
  if (!match) throw new CliError(`bad ${option} "${text}": expected three voxel indices i,j,k, e.g. ${option} 120,96,40`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function positiveInteger(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new CliError(`bad ${option} "${text}": expected a whole number >= 1`);
  return value;
}

function required(value: string | undefined, option: string): string {
  if (!value) throw new CliError(`${option} is required\n\n${USAGE}`);
  return value;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE);
      return command ? 0 : 2;
    }
    const { values, tokens } = parseArgs({ args: rest, options: OPTIONS, tokens: true, allowPositionals: false });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const model = { modelDir: values.model, checkpoint: values.checkpoint, templatesDir: values.templates };
    const maxPatches = positiveInteger(values['max-patches'], '--max-patches', 8);
    if (command === 'segment') {
      // Clicks in command-line order: each refines the previous result.
      const clicks: Click[] = tokens.flatMap((token) =>
        token.kind === 'option' && (token.name === 'point' || token.name === 'negative') && token.value !== undefined
          ? [{ point: parsePoint(token.value, `--${token.name}`), positive: token.name === 'point' }]
          : [],
      );
      if (!clicks.some((click) => click.positive)) throw new CliError(`at least one --point is required\n\n${USAGE}`);
      await segmentCommand({ model, image: required(values.image, '--image'), out: required(values.out, '--out'), clicks, maxPatches });
      return 0;
    }
    if (command === 'evaluate') {
      await evaluateCommand({
        model,
        images: required(values.images, '--images'),
        labels: required(values.labels, '--labels'),
        out: required(values.out, '--out'),
        clicks: positiveInteger(values.clicks, '--clicks', 5),
        maxPatches,
      });
      return 0;
    }
    throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
  } catch (error) {
    if (error instanceof CliError || error instanceof LoadError || (error instanceof TypeError && 'code' in error)) {
      // Our own messages and parseArgs' (unknown option, missing value) are for the user as they are.
      process.stderr.write(`sam-med3d: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`sam-med3d: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
