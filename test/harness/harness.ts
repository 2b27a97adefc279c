import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Routes, routeParts, type CreateInvitesResponse } from '@kluis/protocol';
import { loadServerConfig, startServer, type RunningServer, type ServerConfig } from '@kluis/server';
import { Client } from '@kluis/sdk';
import { CliProcess, freePort, type CliResult } from './processes.js';

export interface TestServer {
  url: string;
  dataDir: string;
  operatorToken: string;
  mintInvites(count?: number): Promise<string[]>;
  close(): Promise<void>;
}

export interface ServerProcess {
  url: string;
  dataDir: string;
  port: number;
  process: CliProcess;
  operatorToken: string;
  mintInvites(count?: number): Promise<string[]>;
}

/** Mints invites through the real operator API, as `kluis admin invite create` does. */
async function mint(url: string, token: string, count: number): Promise<string[]> {
  const { method, path } = routeParts(Routes.createInvites);
  const res = await fetch(new URL(path, url), {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ count }),
  });
  if (!res.ok) throw new Error(`minting invites failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as CreateInvitesResponse).codes;
}

/**
 * One per test file: starts real servers (in this process or as `kluis server`
 * processes), real clients in temp profile dirs, and tears everything down in
 * `dispose()` — call it from afterAll, it runs even when tests fail.
 */
export class Harness {
  private readonly disposers: Array<() => Promise<void> | void> = [];
  private root?: string;
  readonly passphrase = 'test passphrase';

  async tempDir(name: string): Promise<string> {
    this.root ??= await mkdtemp(join(tmpdir(), 'kluis-test-'));
    const dir = await mkdtemp(join(this.root, `${name}-`));
    return dir;
  }

  /** The CLI's environment for a profile home under this harness's temp dir. */
  async cliEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
    return { KLUIS_HOME: await this.tempDir('home'), KLUIS_PASSPHRASE: this.passphrase, ...extra };
  }

  /**
   * In this process. A TURN relay (harness/coturn.ts) goes in as already-read config:
   * `startServer({ turnUrls: turn.urls, turnSecret: turn.secret })`; `spawnServer` below
   * takes the real flags' file form instead.
   */
  async startServer(overrides: Partial<ServerConfig> = {}, dataDir?: string): Promise<TestServer> {
    const dir = dataDir ?? (await this.tempDir('server'));
    const config = { ...loadServerConfig({ flags: { data: dir, port: 0 }, env: {} }), ...overrides };
    const running: RunningServer = await startServer(config, { log: () => {} });
    const token = (await readFile(join(dir, 'operator-token'), 'utf8')).trim();
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await running.close();
    };
    this.disposers.push(close);
    return {
      url: running.url,
      dataDir: dir,
      operatorToken: token,
      mintInvites: (count = 1) => mint(running.url, token, count),
      close,
    };
  }

  /**
   * `kluis server` as a real child process, on a fixed port so it can be killed and restarted.
   * Server options go in `env`, e.g. a TURN relay (harness/coturn.ts) as `--turn-urls` /
   * `--turn-secret-file` take it: `{ KLUIS_TURN_URLS: turn.urls.join(','), KLUIS_TURN_SECRET_FILE: turn.secretFile }`.
   */
  async spawnServer(opts: { dataDir?: string; port?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ServerProcess> {
    const dataDir = opts.dataDir ?? (await this.tempDir('server'));
    const port = opts.port ?? (await freePort());
    const proc = this.spawnCli(['server', '--data', dataDir, '--port', String(port), '--host', '127.0.0.1'], opts.env ?? {});
    const [, url] = await proc.waitFor(/^url: (\S+)$/m);
    const token = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
    return { url: url!, dataDir, port, process: proc, operatorToken: token, mintInvites: (n = 1) => mint(url!, token, n) };
  }

  spawnCli(args: string[], env: NodeJS.ProcessEnv, input?: string, bin?: string): CliProcess {
    const proc = new CliProcess(args, env, input, bin);
    this.disposers.push(async () => {
      proc.kill('SIGKILL');
      await proc.wait(10_000).catch(() => {});
    });
    return proc;
  }

  /** Runs one CLI command to completion. */
  async cli(args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 60_000): Promise<CliResult> {
    return this.spawnCli(args, env, input).wait(timeoutMs);
  }

  async openClient(name: string): Promise<Client> {
    const client = await Client.open({ profileDir: await this.tempDir(`client-${name}`), passphrase: this.passphrase });
    this.disposers.push(() => client.close());
    return client;
  }

  /** A client registered as `username` with a freshly minted invite. */
  async registeredClient(server: { url: string; mintInvites(n?: number): Promise<string[]> }, username: string): Promise<Client> {
    const client = await this.openClient(username);
    const [invite] = await server.mintInvites(1);
    await client.register({ serverUrl: server.url, inviteCode: invite!, username });
    return client;
  }

  /** Runs `fn` on dispose (before anything registered earlier). */
  onDispose(fn: () => unknown): void {
    this.disposers.push(fn as () => Promise<void>);
  }

  async dispose(): Promise<void> {
    for (const d of this.disposers.reverse()) {
      try {
        await d();
      } catch {
        // Tearing down must go on: one failed close must not leave servers running.
      }
    }
    this.disposers.length = 0;
    if (this.root && !process.env.KLUIS_KEEP_TEST_DIRS) await rm(this.root, { recursive: true, force: true });
  }
}
