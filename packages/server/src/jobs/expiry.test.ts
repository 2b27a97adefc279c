import { describe, expect, it } from 'vitest';
import { registerAccount, sendBody } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer } from '../test-support/test-server.js';

describe('expiry job', () => {
  it('deletes undelivered envelopes after the TTL', async () => {
    let now = Date.now();
    const ts = await startTestServer({ envelopeTtlMs: 60_000 }, { clock: () => now });
    try {
      const alice = await registerAccount(ts);
      const bob = await registerAccount(ts);
      await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], 'old') });
      now += 30_000;
      await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], 'new') });
      expect(await ts.server.runExpiry()).toEqual({ envelopes: 0, linkCodes: 0, purgedAccounts: 0, blobs: 0 });
      now += 30_000;
      expect(await ts.server.runExpiry()).toEqual({ envelopes: 1, linkCodes: 0, purgedAccounts: 0, blobs: 0 });
      const socket = await TestSocket.connect(ts.url, bob.auth);
      expect((await socket.backlog()).map((e) => Buffer.from(e.content, 'base64').toString())).toEqual(['new']);
      await socket.close();
    } finally {
      await ts.close();
    }
  });

  it('runs on its own timer', async () => {
    const ts = await startTestServer({ envelopeTtlMs: 1, expiryIntervalMs: 50 });
    try {
      const alice = await registerAccount(ts);
      const bob = await registerAccount(ts);
      await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], 'gone') });
      await new Promise((r) => setTimeout(r, 200));
      const socket = await TestSocket.connect(ts.url, bob.auth);
      expect(await socket.backlog()).toEqual([]);
      await socket.close();
    } finally {
      await ts.close();
    }
  });
});
