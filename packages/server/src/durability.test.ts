import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registerAccount, sendBody } from './test-support/accounts.js';
import { TestSocket } from './test-support/socket-client.js';
import { removeTempDirs, startTestServer, tempDir, type TestServer } from './test-support/test-server.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const script = fileURLToPath(new URL('./test-support/run-server.ts', import.meta.url));

function spawnServer(dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, KLUIS_TEST_DATA: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line).url));
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
  return { child, url };
}

describe('durability', () => {
  it('loses no acknowledged message when the server is SIGKILLed mid-stream', async () => {
    const dataDir = await tempDir();
    const { child, url: urlPromise } = spawnServer(dataDir);
    const url = await urlPromise;
    const token = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
    const remote = { url, dataDir, operatorToken: token, invite: '', server: undefined as never, close: async () => {}, mintInvites: async (n = 1) => {
      const r = await fetch(`${url}/admin/invites`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ count: n }) });
      return ((await r.json()) as { codes: string[] }).codes;
    } } satisfies TestServer;
    const alice = await registerAccount(remote);
    const bob = await registerAccount(remote);
    const socket = await TestSocket.connect(url, alice.auth);
    await socket.backlog();

    const acked: string[] = [];
    let killed = false;
    const inflight = new Set<Promise<void>>();
    for (let i = 0; i < 5000 && !killed; i++) {
      const text = `msg-${i}`;
      const p = socket.request(bob.accountId, sendBody([bob], text)).then(
        (r) => {
          if (r.status === 200) acked.push(text);
          if (acked.length === 300 && !killed) {
            killed = true;
            child.kill('SIGKILL');
          }
        },
        () => {},
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= 64) await Promise.race(inflight);
    }
    await Promise.allSettled(inflight);
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    expect(acked.length).toBeGreaterThanOrEqual(300);

    const restarted = await startTestServer({ dataDir });
    try {
      const bobSocket = await TestSocket.connect(restarted.url, bob.auth);
      const texts = (await bobSocket.backlog(15_000)).map((e) => Buffer.from(e.content, 'base64').toString());
      expect(new Set(texts).size).toBe(texts.length);
      const stored = new Set(texts);
      expect(acked.filter((t) => !stored.has(t))).toEqual([]);
      // Order within the queue is the send order.
      const order = texts.map((t) => Number(t.slice(4)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      await bobSocket.close();
    } finally {
      await restarted.close();
      await removeTempDirs();
    }
  });
});
