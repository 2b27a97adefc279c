/**
 * Rewrites the configuration table in README.md from the server's own option list, so
 * the manual cannot drift from the code (test/readme.test.ts checks it stays complete).
 * Run: npx tsx scripts/readme-config.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { serverConfigHelp } from '@kluis/server';

const START = '<!-- server-config-table -->';
const END = '<!-- /server-config-table -->';
const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const rows = serverConfigHelp.map(
  (o) => `| \`${o.flag}\` | \`${o.env}\` | ${o.default === undefined || o.default === '' ? '' : `\`${o.default}\``} | ${o.description.replace(/\|/g, '\\|')} |`,
);
const table = [START, '| flag | environment | default | meaning |', '|---|---|---|---|', ...rows, END].join('\n');
const begin = readme.indexOf(START);
const end = readme.indexOf(END);
const next = end >= 0 ? readme.slice(0, begin) + table + readme.slice(end + END.length) : readme.replace(START, table);
writeFileSync(path, next);
console.log(`README.md: ${rows.length} server options`);
