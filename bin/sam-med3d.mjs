#!/usr/bin/env node
// Command-line entry: runs the TypeScript CLI (src/cli) through tsx, no build step needed.
import { tsImport } from 'tsx/esm/api';

const { runCli } = await tsImport('../src/cli/main.ts', import.meta.url);
process.exitCode = await runCli(process.argv.slice(2));
