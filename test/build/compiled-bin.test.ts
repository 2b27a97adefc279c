import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { KLUIS_BIN, REPO_ROOT } from '../harness/index.js';

const run = promisify(execFile);

/**
 * The one test of the compiled code: every other test runs the sources (so editing src/
 * is enough), which leaves the bin's own path — bin/kluis.js → dist/, what `npm ci`
 * installs and systemd runs — to this file. `npm test` builds first (pretest); the build
 * here is incremental, so running this file alone cannot test a stale dist/ either.
 */
describe('the compiled kluis bin', () => {
  const version = (file: string) => (JSON.parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as { version: string }).version;

  // Its own environment: no NODE_OPTIONS (--conditions, --import tsx) leaks in from the runner.
  const kluis = (args: string[]) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    return run(process.execPath, [KLUIS_BIN, ...args], { cwd: tmpdir(), env, timeout: 30_000 });
  };

  beforeAll(async () => {
    await run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: REPO_ROOT, timeout: 170_000 });
  }, 180_000);

  it('prints the version of package.json with --version', async () => {
    const { stdout, stderr } = await kluis(['--version']);
    expect(stdout.trim()).toBe(version('package.json'));
    expect(version('packages/cli/package.json')).toBe(version('package.json'));
    expect(stderr).toBe('');
  });

  it('prints its usage with --help, every command listed', async () => {
    const { stdout, stderr } = await kluis(['--help']);
    expect(stdout).toMatch(/^Usage: kluis /);
    for (const command of ['server', 'admin', 'register', 'send', 'receive', 'chat', 'app']) {
      expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(stdout).toContain('-V, --version');
    expect(stderr).toBe('');
  });

  it('runs compiled JavaScript only, never TypeScript through tsx', () => {
    const bin = readFileSync(KLUIS_BIN, 'utf8');
    expect(bin).not.toMatch(/tsx|\.ts['"]/);
    expect(bin).toContain('../dist/entry.js');
  });
});
