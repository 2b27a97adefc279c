import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serverConfigHelp } from '@kluis/server';
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
