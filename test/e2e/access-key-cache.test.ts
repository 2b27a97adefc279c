import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, sendBody, type TestDevice } from '../../packages/server/src/test-support/accounts.js';
import { call } from '../../packages/server/src/test-support/http.js';
import { sealedMultiMessage } from '../../packages/server/src/test-support/sessions.js';
import type { TestServer as ServerTestServer } from '../../packages/server/src/test-support/test-server.js';
import { Harness, type TestServer } from '../harness/index.js';

/**
 * The server keeps recipients' access keys in memory (sealed/access-key-cache.ts). A key
 * change must take effect with its 200: the old key is refused by the very next send,
 * single or multi-recipient, over HTTP, without waiting for anything to expire.
 */
describe('sealed access keys cached in memory', () => {
  const h = new Harness();
  let server: TestServer;
  let sender: TestDevice;
  /** Enough of the server test-support's TestServer for registerAccount. */
  const asServer = () => ({ url: server.url, mintInvites: server.mintInvites }) as unknown as ServerTestServer;

  beforeAll(async () => {
    server = await h.startServer({ argon2MemoryKib: 64, argon2Iterations: 1 });
    sender = await registerAccount(asServer());
  });
  afterAll(() => h.dispose());

  const setKey = async (d: TestDevice, key: Buffer, unrestricted = false) => {
    const r = await call(server.url, 'PUT', '/v1/accounts/access-key', { auth: d.auth, body: { accessKey: key.toString('base64'), unrestricted } });
    expect(r.status).toBe(200);
  };
  const single = async (to: TestDevice, key: Buffer) =>
    (await call(server.url, 'PUT', `/v1/sealed/${to.accountId}`, { body: sendBody([to], 'sealed', 6), headers: { 'unidentified-access-key': key.toString('base64') } })).status;
  const multi = async (message: string, key: Buffer) =>
    (await call(server.url, 'PUT', '/v1/sealed', { body: { message }, headers: { 'unidentified-access-key': key.toString('base64') } })).status;

  it('a changed key: the old one is refused at once, the new one works', async () => {
    const bob = await registerAccount(asServer());
    const oldKey = randomBytes(16);
    const newKey = randomBytes(16);
    await setKey(bob, oldKey);
    // Twice: the second answer comes from the cache.
    expect(await single(bob, oldKey)).toBe(200);
    expect(await single(bob, oldKey)).toBe(200);
    await setKey(bob, newKey);
    expect(await single(bob, oldKey)).toBe(401);
    expect(await single(bob, newKey)).toBe(200);
  });

  it('multi-recipient sends see the change at once too', async () => {
    const carol = await registerAccount(asServer());
    const oldKey = randomBytes(16);
    const newKey = randomBytes(16);
    await setKey(carol, oldKey);
    const message = await sealedMultiMessage(server.url, sender, [carol]);
    expect(await multi(message, oldKey)).toBe(200);
    await setKey(carol, newKey);
    expect(await multi(message, oldKey)).toBe(401);
    expect(await multi(message, newKey)).toBe(200);
  });

  it('the sealed-from-anyone flag, switched on and off, applies at once', async () => {
    const dave = await registerAccount(asServer());
    const key = randomBytes(16);
    await setKey(dave, key);
    const stranger = randomBytes(16);
    expect(await single(dave, stranger)).toBe(401);
    await setKey(dave, key, true);
    expect(await single(dave, stranger)).toBe(200);
    await setKey(dave, key, false);
    expect(await single(dave, stranger)).toBe(401);
    expect(await single(dave, key)).toBe(200);
  });

  it('a deleted account is refused at once, like an unknown one', async () => {
    const erin = await registerAccount(asServer());
    const key = randomBytes(16);
    await setKey(erin, key);
    expect(await single(erin, key)).toBe(200);
    const res = await fetch(new URL(`/admin/accounts/${erin.accountId}`, server.url), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${server.operatorToken}` },
    });
    expect(res.status).toBe(200);
    expect(await single(erin, key)).toBe(401);
  });
});
