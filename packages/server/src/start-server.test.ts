import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registerAccount, sendBody } from './test-support/accounts.js';
import { call } from './test-support/http.js';
import { TestSocket } from './test-support/socket-client.js';
import { removeTempDirs, startTestServer, tempDir, type TestServer } from './test-support/test-server.js';

const open: TestServer[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await removeTempDirs();
});
async function start(dataDir?: string): Promise<TestServer> {
  const s = await startTestServer(dataDir ? { dataDir } : {});
  open.push(s);
  return s;
}

describe('startServer', () => {
  it('bootstraps an empty data dir once: brand, operator token (0600, hashed), one invite', async () => {
    const dataDir = join(await tempDir(), 'nested', 'data');
    const first = await start(dataDir);
    expect(first.server.firstStart).toEqual({ operatorTokenFile: join(dataDir, 'operator-token'), invite: expect.stringMatching(/^[0-9A-Z-]{31}$/) });
    expect(first.url).toBe(`http://127.0.0.1:${first.server.port}`);
    expect(first.server.port).toBeGreaterThan(0);
    expect((await stat(join(dataDir, 'operator-token'))).mode & 0o777).toBe(0o600);
    const token = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    const alice = await registerAccount(first, { invite: first.invite });
    await first.close();
    const db = await readFile(join(dataDir, 'kluis.db'));
    expect(db.includes(Buffer.from(token))).toBe(false);
    expect(db.includes(Buffer.from(first.invite))).toBe(false);

    const second = await start(dataDir);
    expect(second.server.firstStart).toBeUndefined();
    expect(second.operatorToken).toBe(token);
    expect((await call(second.url, 'GET', '/v1/accounts/me', { auth: alice.auth })).body.accountId).toBe(alice.accountId);
    expect((await second.mintInvites(2)).length).toBe(2);
  });

  it('runs two servers in one process', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a.server.port).not.toBe(b.server.port);
    const alice = await registerAccount(a);
    expect((await call(a.url, 'GET', '/v1/accounts/me', { auth: alice.auth })).status).toBe(200);
    expect((await call(b.url, 'GET', '/v1/accounts/me', { auth: alice.auth })).status).toBe(401);
    await a.close();
    expect((await call(b.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('closes gracefully: in-flight sends commit, sockets get 1001, messages survive a restart', async () => {
    const dataDir = await tempDir();
    const s = await start(dataDir);
    const alice = await registerAccount(s);
    const bob = await registerAccount(s);
    const aliceSocket = await TestSocket.connect(s.url, alice.auth);
    await aliceSocket.backlog();
    const inflight = Array.from({ length: 50 }, (_, i) => aliceSocket.request(bob.accountId, sendBody([bob], `m${i}`)));
    const httpSend = call(s.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], 'http') });
    await new Promise((r) => setTimeout(r, 5));
    const closing = s.close();
    const acked = (await Promise.allSettled(inflight)).filter((r) => r.status === 'fulfilled' && r.value.status === 200).length;
    const httpResult = await httpSend.catch(() => undefined);
    expect((await aliceSocket.closed).code).toBe(1001);
    await closing;
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();

    const again = await start(dataDir);
    const bobSocket = await TestSocket.connect(again.url, bob.auth);
    const texts = (await bobSocket.backlog()).map((e) => Buffer.from(e.content, 'base64').toString());
    // Every acknowledged send is there, once.
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts.filter((t) => t.startsWith('m')).length).toBeGreaterThanOrEqual(acked);
    if (httpResult?.status === 200) expect(texts).toContain('http');
    await bobSocket.close();
  });
});
