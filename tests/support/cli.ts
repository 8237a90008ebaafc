/** Runs the command-line tool as a user does: `node bin/sam-med3d.mjs ...`. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runSamMed3d(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.resolve('bin/sam-med3d.mjs'), ...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function temporaryFolder(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}
