#!/usr/bin/env node
// Thin launcher: the CLI lives in src/cli and is compiled to dist/ on install (npm "prepare").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('mm: the CLI is not built yet; run `npm install` (or `npm run build`) in the package folder first\n');
  process.exit(1);
}
await import(main.href);
