import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../test-support/http.js';
import { removeTempDirs, startTestServer, tempDir, type TestServer } from '../test-support/test-server.js';
import { LICENSE } from './admin-openapi.js';

/**
 * The operator API document as the running server serves it, through redocly's recommended
 * ruleset: zero errors and zero warnings, so client generators and API portals take it as is.
 */
interface LintProblem {
  ruleId: string;
  severity: string;
  message: string;
  location?: { pointer?: string }[];
}
interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: LintProblem[];
}

const req = createRequire(import.meta.url);
const redoclyBin = join(dirname(req.resolve('@redocly/cli/package.json')), 'bin', 'cli.js');
const repoRoot = dirname(req.resolve('../../../../package.json'));

let ts: TestServer;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenAPI document
let doc: any;
let report: LintReport;
let stderr = '';

function lint(file: string, config: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [redoclyBin, 'lint', '--format=json', `--config=${config}`, file],
      {
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
        cwd: dirname(file),
        // Telemetry and the update check would reach the network; the lint needs none of it.
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', NO_COLOR: '1' },
      },
      // Exit code 1 just means problems were found; the JSON on stdout says which.
      (err, stdout, stderr) => (err && !stdout ? reject(new Error(`redocly lint failed: ${err.message}\n${stderr}`)) : resolve({ stdout, stderr })),
    );
  });
}

beforeAll(async () => {
  ts = await startTestServer();
  const r = await call(ts.url, 'GET', '/admin/openapi.json', { auth: `Bearer ${ts.operatorToken}` });
  expect(r.status).toBe(200);
  doc = r.body;
  await ts.close();
  const dir = await tempDir('kluis-openapi-lint-');
  const file = join(dir, 'openapi.json');
  const config = join(dir, 'redocly.yaml');
  await writeFile(file, JSON.stringify(doc, null, 2));
  await writeFile(config, 'extends:\n  - recommended\n');
  const out = await lint(file, config);
  stderr = out.stderr;
  report = JSON.parse(out.stdout) as LintReport;
}, 90_000);
afterAll(async () => {
  await ts?.close();
  await removeTempDirs();
});

describe('GET /admin/openapi.json under redocly lint (recommended)', () => {
  it('has no errors and no warnings', () => {
    const listed = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location?.[0]?.pointer ?? '?'}: ${p.message}`);
    if (listed.length) console.log(`redocly lint problems:\n${listed.join('\n')}\n${stderr}`);
    expect(listed).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('gives every operation an operationId and a summary of its own', () => {
    const ops = Object.values(doc.paths as Record<string, Record<string, { operationId?: string; summary?: string }>>).flatMap((p) => Object.values(p));
    expect(ops.length).toBeGreaterThan(10);
    for (const op of ops) {
      expect(op.operationId).toBeTruthy();
      expect(op.summary, op.operationId).toBeTruthy();
      expect(op.summary).not.toBe(op.operationId);
    }
  });

  it('names the licence of the repository and a server', async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { license: string };
    expect(LICENSE).toBe(pkg.license);
    expect(doc.info.license.identifier).toBe(pkg.license);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });
});
