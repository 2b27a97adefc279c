import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, sendBody } from '../../packages/server/src/test-support/accounts.js';
import { call } from '../../packages/server/src/test-support/http.js';
import { TestSocket } from '../../packages/server/src/test-support/socket-client.js';
import { startTestServer, type TestServer } from '../../packages/server/src/test-support/test-server.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { waitUntil } from '../harness/wait.js';

/**
 * PostgreSQL goes away under a running node (its own throwaway server: the shared one
 * serves other suites meanwhile). Sends must fail fast with 503 and a retry hint, the
 * node must report not-ready, open sockets must stay up, and everything must recover
 * when the database is back, without restarting the node.
 */
describe('PostgreSQL outage', () => {
  let pg: PostgresServer;
  let ts: TestServer;

  beforeAll(async () => {
    pg = await startPostgres();
    ts = await startTestServer({ database: pg.url });
  });
  afterAll(async () => {
    await ts?.close();
    await pg?.stop();
  });

  it('answers sends with 503 + Retry-After while down, and recovers by itself', async () => {
    const alice = await registerAccount(ts);
    const bob = await registerAccount(ts);
    const socket = await TestSocket.connect(ts.url, bob.auth);
    await socket.backlog();
    const send = (text: string) => call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], text) });
    expect((await send('before')).status).toBe(200);
    await socket.next((f) => f.type === 'envelope');

    await pg.pause();
    try {
      const started = Date.now();
      const refused = await send('during');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(refused.body).toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: expect.any(Number) });
      // Not a hang: well inside a client's patience.
      expect(Date.now() - started).toBeLessThan(6_000);
      const ready = await fetch(new URL('/readyz', ts.url));
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ store: 'unreachable' });
    } finally {
      await pg.resume();
    }

    // The same node, the same socket: sends succeed again and are pushed.
    await waitUntil('sends succeed again', async () => (await send('after')).status === 200, 20_000);
    const after = await socket.next((f) => f.type === 'envelope', 10_000);
    expect(Buffer.from(after.envelope.content, 'base64').toString()).toBe('after');
    expect((await fetch(new URL('/readyz', ts.url))).status).toBe(200);
    const metrics = await (await fetch(new URL('/metrics', ts.url))).text();
    expect(metrics).toMatch(/^kluis_store_errors_total [1-9]\d*$/m);
    await socket.close();
  });
});
