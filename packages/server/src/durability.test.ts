import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registerAccount, sendBody } from './test-support/accounts.js';
import { TestSocket } from './test-support/socket-client.js';
import { removeTempDirs, startTestServer, tempDir, type TestServer } from './test-support/test-server.js';
import { open, readFile, rm } from 'node:fs/promises';
import { call } from './test-support/http.js';
import { join } from 'node:path';

const script = fileURLToPath(new URL('./test-support/run-server.ts', import.meta.url));

function spawnServer(dataDir: string) {
  const child = spawn(process.execPath, ['--conditions=kluis-source', '--import', 'tsx', script], { env: { ...process.env, KLUIS_TEST_DATA: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] });
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

/** A tmpfs of `mib` MiB at a fresh directory, or undefined where mounting is not allowed (not root). */
function mountSmallDisk(dir: string, mib: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes zeros into `file` until the disk says ENOSPC. */
async function fillDisk(file: string): Promise<void> {
  const f = await open(file, 'w');
  const chunk = Buffer.alloc(256 * 1024);
  try {
    for (;;) await f.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await f.close().catch(() => {});
  }
  // Whatever is left, byte by byte-ish, so the disk is really full.
  const g = await open(`${file}-tail`, 'w');
  try {
    for (;;) await g.write(Buffer.alloc(4096));
  } catch {
    // ENOSPC
  } finally {
    await g.close().catch(() => {});
  }
}

describe('a full disk', () => {
  it('answers 507 STORAGE_FULL, lets receivers ack their backlog, recovers without a restart, and logs once per interval', async (t) => {
    const dataDir = await tempDir();
    if (!mountSmallDisk(dataDir, 24)) t.skip();
    const logs: string[] = [];
    const ts = await startTestServer({ dataDir, storageReserveBytes: 4 * 1024 * 1024, storageCheckIntervalMs: 500 }, { log: (line) => logs.push(line) });
    try {
      const alice = await registerAccount(ts);
      const bob = await registerAccount(ts);
      const payload = (i: number) => `${i}:`.padEnd(4096, 'x');
      for (let i = 0; i < 150; i++) expect((await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], payload(i)) })).status).toBe(200);

      const filler = join(dataDir, 'filler');
      await fillDisk(filler);
      const started = Date.now();
      const socket = await TestSocket.connect(ts.url, alice.auth);
      const statuses: Array<{ status: number; code?: string }> = [];
      let first507: { status: number; body: Record<string, unknown> } | undefined;
      for (let round = 0; round < 20 && !first507; round++) {
        const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => socket.request(bob.accountId, sendBody([bob], payload(1000 + round * 50 + i)))));
        for (const r of rs) statuses.push({ status: r.status, code: r.body.code as string | undefined });
        first507 = rs.find((r) => r.status === 507) as typeof first507;
      }
      // Before: 503 "could not be stored; try again shortly".
      expect(first507?.body).toEqual({ code: 'STORAGE_FULL', message: expect.stringMatching(/^the server's storage is full/), retryAfterSeconds: 60 });
      expect(statuses.filter((s) => s.status !== 200 && s.status !== 507)).toEqual([]);
      // Every send from now on is refused at the door: over HTTP too, with Retry-After.
      const http = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], 'x') });
      expect(http.status).toBe(507);
      expect(http.headers.get('retry-after')).toBe('60');
      const accepted = 150 + statuses.filter((s) => s.status === 200).length;
      const metrics = await (await fetch(`${ts.url}/metrics`)).text();
      expect(metrics).toMatch(/^kluis_storage_full 1$/m);
      expect(Number(/^kluis_storage_full_refusals_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);

      // Bob drains his queue on the full disk: every accepted message arrives and his acks commit.
      const bobSocket = await TestSocket.connect(ts.url, bob.auth);
      const backlog = await bobSocket.backlog(15_000);
      expect(backlog.length).toBe(accepted);
      for (let i = 0; i < backlog.length; i += 100) bobSocket.send({ type: 'ack', guids: backlog.slice(i, i + 100).map((e) => e.guid) });
      await bobSocket.close();
      await expect
        .poll(async () => {
          // A real client acks whatever it is given again (an ack batch may not have fit).
          const again = await TestSocket.connect(ts.url, bob.auth);
          const left = await again.backlog(15_000);
          for (let i = 0; i < left.length; i += 100) again.send({ type: 'ack', guids: left.slice(i, i + 100).map((e) => e.guid) });
          await again.close();
          return left.length;
        }, { timeout: 15_000, interval: 500 })
        .toBe(0);

      // Space comes back (the operator deleted something): sends work again, no restart.
      await rm(filler, { force: true });
      await rm(`${filler}-tail`, { force: true });
      await expect.poll(async () => (await socket.request(bob.accountId, sendBody([bob], 'back'))).status, { timeout: 10_000, interval: 200 }).toBe(200);
      const elapsedIntervals = (Date.now() - started) / 500;
      expect(await (await fetch(`${ts.url}/metrics`)).text()).toMatch(/^kluis_storage_full 0$/m);
      await socket.close();

      // Before: 2,721 lines of "cannot rollback - no transaction is active".
      expect(logs.filter((l) => /cannot rollback|group commit failed|syncing committed|background checkpoints failed|emptying the WAL/.test(l))).toEqual([]);
      const storageLines = logs.filter((l) => /storage/.test(l));
      expect(storageLines.filter((l) => /storage full \(/.test(l))).toHaveLength(1);
      expect(storageLines.filter((l) => /storage has room again/.test(l))).toHaveLength(1);
      expect(storageLines.length).toBeLessThanOrEqual(elapsedIntervals + 3);
    } catch (e) {
      console.log('DEBUG', logs.join('\n'));
      throw e;
    } finally {
      await ts.close();
      execFileSync('umount', [dataDir], { stdio: 'ignore' });
      await removeTempDirs();
    }
  }, 120_000);
});
