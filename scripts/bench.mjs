#!/usr/bin/env node
/** Runs every benchmark script (scripts/bench-*.mjs but bench-support.mjs) in turn; each prints its own figures. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const scripts = path.dirname(fileURLToPath(import.meta.url));
const benches = readdirSync(scripts)
  .filter((f) => /^bench-.+\.mjs$/.test(f) && f !== 'bench-support.mjs')
  .sort();
let failed = false;
for (const bench of benches) {
  console.log(`\n=== ${bench} ===`);
  const result = spawnSync(process.execPath, [path.join(scripts, bench)], { stdio: 'inherit' });
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
