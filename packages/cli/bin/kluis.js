#!/usr/bin/env node
// Runs the compiled CLI: `npm ci`, `npm run build` and `npm start` compile src/ into dist/
// (tsc -b); nothing is compiled at load time. The tests run src/entry.ts from source.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/entry.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('error: kluis is not built (no packages/cli/dist): run `npm run build` in the kluis directory\n');
  process.exit(1);
}
await import(entry.href);
