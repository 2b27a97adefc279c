import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rateLimitTable, serverConfigHelp } from '@kluis/server';
import { REPO_ROOT } from './harness/index.js';

/** The README is the operator's manual: its configuration table must name every flag. */
describe('README', () => {
  const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');

  it('shows the two-command quick start', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });

  it('documents every server flag and its environment variable', () => {
    for (const opt of serverConfigHelp) {
      expect(readme, opt.flag).toContain(`\`${opt.flag}\``);
      expect(readme, opt.env).toContain(`\`${opt.env}\``);
    }
  });
});

/** docs/limits.md lists every limit: the rate-limit table is the code's, and every limit flag is named. */
describe('docs/limits.md', () => {
  const doc = readFileSync(`${REPO_ROOT}/docs/limits.md`, 'utf8');

  it('carries the rate-limit table as the code has it (npx tsx scripts/limits-doc.ts rewrites it)', () => {
    expect(doc).toContain(rateLimitTable());
  });

  it('names every server option that caps something', () => {
    const limitFlag = /^--(max-|rate-limit|socket-|idle-|storage-|attachment-(?!ttl)|sends-|renewal-|link-code-|device-login-|envelope-ttl|attachment-ttl|auth-cache)/;
    const flags = serverConfigHelp.map((o) => o.flag).filter((f) => limitFlag.test(f));
    expect(flags.length).toBeGreaterThan(20);
    for (const flag of flags) expect(doc, flag).toContain(`\`${flag}`);
  });
});
