import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerConfig } from '../config.js';
import { startServer, type RunningServer, type StartOptions } from '../start-server.js';

export interface TestServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  operatorToken: string;
  /** The invite made on first start. */
  invite: string;
  mintInvites(count?: number): Promise<string[]>;
  close(): Promise<void>;
}

const created: string[] = [];

/** A fresh directory under the OS temp dir; removeTempDirs() deletes them all. */
export async function tempDir(prefix = 'kluis-server-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of created.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** A real server on a random port over a fresh data dir; argon2 made cheap for speed. */
export async function startTestServer(overrides: Partial<ServerConfig> = {}, opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await tempDir());
  const logs: string[] = [];
  const server = await startServer(
    {
      dataDir,
      host: '127.0.0.1',
      port: 0,
      envelopeTtlMs: 30 * 24 * 3600 * 1000,
      argon2MemoryKib: 64,
      argon2Iterations: 1,
      ...overrides,
    },
    { log: (line) => logs.push(line), ...opts },
  );
  const operatorToken = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
  let closed = false;
  return {
    server,
    url: server.url,
    dataDir,
    operatorToken,
    invite: server.firstStart?.invite ?? '',
    async mintInvites(count = 1) {
      const res = await fetch(`${server.url}/admin/invites`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ count }),
      });
      if (res.status !== 200) throw new Error(`minting invites: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { codes: string[] }).codes;
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      if (!overrides.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
