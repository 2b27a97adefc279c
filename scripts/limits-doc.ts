/**
 * Rewrites the rate-limit table in docs/limits.md from the server's own buckets
 * (limits/rules.ts), so the manual cannot drift from the code (test/readme.test.ts
 * checks it). Run: npx tsx scripts/limits-doc.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { rateLimitTable } from '@kluis/server';

const START = '<!-- rate-limit-table -->';
const END = '<!-- /rate-limit-table -->';
const path = new URL('../docs/limits.md', import.meta.url);
const doc = readFileSync(path, 'utf8');
const begin = doc.indexOf(START);
const end = doc.indexOf(END);
if (begin < 0 || end < begin) throw new Error(`docs/limits.md has no ${START} … ${END} block`);
writeFileSync(path, doc.slice(0, begin + START.length) + '\n' + rateLimitTable() + '\n' + doc.slice(end));
console.log('docs/limits.md: rate-limit table rewritten');
