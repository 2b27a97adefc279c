#!/usr/bin/env node
// The package ships TypeScript sources; tsx compiles them on load (cached), so
// `npm ci && npm start` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
