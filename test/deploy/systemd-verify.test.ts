import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { routeParts, Routes } from '@kluis/protocol';
import { configDefaults } from '@kluis/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../harness/harness.js';
import { freePort } from '../harness/processes.js';
import { last, parseEnvFile, parseUnit } from './unit-file.js';

/**
 * The unit as systemd itself reads it (`systemd-analyze verify`), its readiness wait run
 * against a real server, and the database password file where the sandbox lets it be read.
 */
const deployDir = new URL('../../deploy/', import.meta.url);
const unitUrl = new URL('systemd/kluis@.service', deployDir);

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    if (await access(file, constants.X_OK).then(() => true, () => false)) return file;
  }
  return undefined;
}

interface Run {
  code: number | null;
  output: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** An Exec*= line's command, without systemd's prefixes (`-`, `@`, `:`, `+`, `!`). */
const commandOf = (line: string) => line.replace(/^[-@:+!]+/, '').split(/\s+/)[0]!;

let unitText: string;
let unit: ReturnType<typeof parseUnit>;
let scratch: string;

beforeAll(async () => {
  unitText = await readFile(unitUrl, 'utf8');
  unit = parseUnit(unitText);
  scratch = await mkdtemp(join(tmpdir(), 'kluis-unit-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('systemd-analyze verify deploy/systemd/kluis@.service', () => {
  it('reports nothing but binaries this machine lacks', async (ctx) => {
    const analyze = await onPath('systemd-analyze');
    if (!analyze) {
      console.log('skipped: systemd-analyze is not installed (apt-get install systemd)');
      ctx.skip();
      return;
    }
    // The template (systemd checks it as kluis@i) and an instance, under their real names.
    const files = [join(scratch, 'kluis@.service'), join(scratch, 'kluis@ams-1.service')];
    for (const f of files) await writeFile(f, unitText);
    const result = await run(analyze, ['verify', '--man=no', ...files], 30_000);
    // The unit is written for the target host (Node in /usr/bin, curl installed); a test
    // machine may lack either, which systemd reports as "not executable". Only those pass.
    const binaries = new Set(['ExecStart', 'ExecStartPost'].flatMap((k) => unit.get('Service')?.get(k) ?? []).map(commandOf));
    const lines = result.output.split('\n').map((l) => l.trim()).filter(Boolean);
    const harmless = (l: string) => {
      const m = /^kluis@[\w-]*\.service: Command (\S+) is not executable: No such file or directory$/.exec(l);
      return !!m && binaries.has(m[1]!);
    };
    for (const l of lines.filter(harmless)) console.log(`accepted (absent on this machine): ${l}`);
    expect(lines.filter((l) => !harmless(l)), result.output).toEqual([]);
    if (!lines.length) expect(result.code).toBe(0);
  });

  it('would report a broken copy (so a silent verify means something)', async (ctx) => {
    const analyze = await onPath('systemd-analyze');
    if (!analyze) {
      console.log('skipped: systemd-analyze is not installed');
      ctx.skip();
      return;
    }
    const broken = join(scratch, 'kluis@broken.service');
    await writeFile(broken, unitText.replace('Type=exec', 'Type=exec\nRestartSecc=2'));
    const result = await run(analyze, ['verify', '--man=no', broken], 30_000);
    expect(result.output).toMatch(/Unknown key 'RestartSecc'/);
  });
});

describe('readiness: Type=exec and a bounded /healthz wait', () => {
  const harness = new Harness();
  afterAll(() => harness.dispose());

  const service = () => unit.get('Service');
  const waitLine = () => last(service(), 'ExecStartPost') ?? '';
  /** systemd's ${VAR} substitution from Environment=, then its word splitting (no quotes here). */
  const command = (vars: Record<string, string>) =>
    waitLine()
      .replace(/\$\{(\w+)\}/g, (_, k: string) => vars[k] ?? '')
      .split(/\s+/);
  const flag = (args: string[], name: string) => Number(args[args.indexOf(name) + 1]);

  it('is started only once the wait succeeds, and the wait ends before systemd gives up', () => {
    expect(last(service(), 'Type')).toBe('exec');
    const args = command({});
    expect(commandOf(waitLine())).toBe('/usr/bin/curl');
    expect(args).toContain('--fail');
    expect(args).toContain('--retry-connrefused');
    const total = flag(args, '--retry-max-time') + flag(args, '--max-time');
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(Number.parseFloat(last(service(), 'TimeoutStartSec') ?? '90'));
    expect(waitLine().split(/\s+/).at(-1)).toBe(`http://\${KLUIS_HOST}:\${KLUIS_PORT}${routeParts(Routes.health).path}`);
  });

  it("defaults the address to the server's own and the env files set it", async () => {
    const env = service()?.get('Environment')?.join(' ') ?? '';
    expect(env).toContain(`KLUIS_HOST=${configDefaults.host}`);
    expect(env).toContain(`KLUIS_PORT=${configDefaults.port}`);
    for (const f of await readdir(new URL('env/', deployDir))) {
      const vars = parseEnvFile(await readFile(new URL(`env/${f}`, deployDir), 'utf8'));
      expect(vars.get('KLUIS_HOST'), f).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(vars.get('KLUIS_PORT'), f).toMatch(/^\d+$/);
    }
  });

  it('succeeds against a running server and fails fast on a closed port', async (ctx) => {
    const curl = '/usr/bin/curl';
    if (!(await access(curl, constants.X_OK).then(() => true, () => false))) {
      console.log('skipped: /usr/bin/curl is not installed');
      ctx.skip();
      return;
    }
    const server = await harness.startServer();
    const { hostname, port } = new URL(server.url);
    const up = command({ KLUIS_HOST: hostname, KLUIS_PORT: port });
    expect(await run(curl, up.slice(1), 15_000)).toMatchObject({ code: 0 });
    // Same command with the retries cut short: a refused connection is tried again, then fails.
    const down = command({ KLUIS_HOST: '127.0.0.1', KLUIS_PORT: String(await freePort()) }).slice(1);
    down[down.indexOf('--retry') + 1] = '1';
    const started = Date.now();
    const result = await run(curl, down, 15_000);
    expect(result.code).toBe(7);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('the database password file is where the sandbox lets the node read it', () => {
  it('PGPASSFILE in every env file is under /etc/kluis, and no file points at a home directory', async () => {
    expect(last(unit.get('Service'), 'ProtectHome')).toBe('yes');
    const files = await readdir(new URL('env/', deployDir));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = await readFile(new URL(`env/${f}`, deployDir), 'utf8');
      expect(parseEnvFile(text).get('PGPASSFILE'), f).toBe('/etc/kluis/pgpass');
      expect(text, f).not.toMatch(/~kluis|\/home\/|\.pgpass/);
    }
    const readme = await readFile(new URL('README.md', deployDir), 'utf8');
    // pgpass ignores a file with group or world access: the install line must make it 0600.
    expect(readme).toMatch(/install -m 0600 -o kluis -g kluis \/dev\/null \/etc\/kluis\/pgpass/);
  });
});
