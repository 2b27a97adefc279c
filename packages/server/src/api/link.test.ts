import { PrivateKey } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkDevice, registerAccount, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { b64, generateDeviceKeys, newIdentity, newPassword } from '../test-support/keys.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
let alice: TestDevice;
beforeAll(async () => {
  ts = await startTestServer();
  alice = await registerAccount(ts);
});
afterAll(() => ts.close());

const oneTimeKey = () => b64(PrivateKey.generate().getPublicKey().serialize());

describe('device linking', () => {
  it('links a device through the four steps and lists it', async () => {
    const linked = await linkDevice(ts, alice);
    expect(linked.deviceId).toBe(2);
    expect(linked.accountId).toBe(alice.accountId);
    const me = await call(ts.url, 'GET', '/v1/accounts/me', { auth: linked.auth });
    expect(me.body).toMatchObject({ accountId: alice.accountId, deviceId: 2 });
    const list = await call(ts.url, 'GET', '/v1/devices', { auth: linked.auth });
    expect(list.body.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1, 2]);
    expect(list.body.devices[0]).toEqual({ deviceId: 1, createdAt: expect.any(Number) });
  });

  it('walks the states and refuses steps out of order', async () => {
    const { body } = await call(ts.url, 'POST', '/v1/devices/link-codes', { auth: alice.auth });
    const code: string = body.code;
    expect(code.replace(/-/g, '')).toHaveLength(16);
    expect(body.expiresAt).toBeGreaterThan(Date.now() + 9 * 60_000);
    const status = () => call(ts.url, 'POST', '/v1/devices/link-codes/status', { auth: alice.auth, body: { code } });
    expect((await status()).body).toEqual({ state: 'waiting' });
    expect((await call(ts.url, 'POST', '/v1/link/fetch', { body: { code } })).body).toEqual({ state: 'waiting' });
    const early = await call(ts.url, 'POST', '/v1/devices/link-codes/provision', { auth: alice.auth, body: { code, sealed: 'AAAA' } });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('LINK_STATE');

    const key = oneTimeKey();
    expect((await call(ts.url, 'POST', '/v1/link/request', { body: { code, publicKey: key } })).status).toBe(200);
    expect((await status()).body).toEqual({ state: 'requested', publicKey: key });
    const twice = await call(ts.url, 'POST', '/v1/link/request', { body: { code, publicKey: oneTimeKey() } });
    expect(twice.status).toBe(409);

    const keys = generateDeviceKeys(alice.identity);
    const tooEarly = await call(ts.url, 'POST', '/v1/link/complete', { body: { code, registrationId: 7, password: newPassword(), ...keys.upload } });
    expect(tooEarly.status).toBe(409);
    expect((await call(ts.url, 'POST', '/v1/devices/link-codes/provision', { auth: alice.auth, body: { code, sealed: 'c2VhbGVk' } })).status).toBe(200);
    expect((await call(ts.url, 'POST', '/v1/link/fetch', { body: { code } })).body).toEqual({ state: 'provisioned', sealed: 'c2VhbGVk' });

    // Keys signed by another identity: the code thief without the sealed secrets.
    const forged = generateDeviceKeys(newIdentity());
    const bad = await call(ts.url, 'POST', '/v1/link/complete', { body: { code, registrationId: 7, password: newPassword(), ...forged.upload } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_SIGNATURE');

    const done = await call(ts.url, 'POST', '/v1/link/complete', { body: { code, registrationId: 7, password: newPassword(), ...keys.upload } });
    expect(done.status).toBe(200);
    expect((await status()).body).toEqual({ state: 'linked', publicKey: key, deviceId: done.body.deviceId });
    expect((await call(ts.url, 'POST', '/v1/link/fetch', { body: { code } })).body).toEqual({ state: 'linked' });
    const reuse = await call(ts.url, 'POST', '/v1/link/complete', { body: { code, registrationId: 8, password: newPassword(), ...keys.upload } });
    expect(reuse.status).toBe(409);
    await call(ts.url, 'DELETE', `/v1/devices/${done.body.deviceId}`, { auth: alice.auth });
  });

  it('refuses unknown codes and codes of another account', async () => {
    const bob = await registerAccount(ts);
    const { body } = await call(ts.url, 'POST', '/v1/devices/link-codes', { auth: bob.auth });
    const other = await call(ts.url, 'POST', '/v1/devices/link-codes/status', { auth: alice.auth, body: { code: body.code } });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('INVALID_LINK_CODE');
    const unknown = await call(ts.url, 'POST', '/v1/link/request', { body: { code: 'ABCD-EFGH-JKMN-PQRS', publicKey: oneTimeKey() } });
    expect(unknown.status).toBe(404);
    const malformed = await call(ts.url, 'POST', '/v1/link/fetch', { body: { code: 'x' } });
    expect(malformed.body.code).toBe('INVALID_LINK_CODE');
  });

  it('lets only the primary create and provision codes; linked devices may remove only themselves', async () => {
    const bob = await registerAccount(ts);
    const bob2 = await linkDevice(ts, bob);
    const bob3 = await linkDevice(ts, bob);
    const notPrimary = await call(ts.url, 'POST', '/v1/devices/link-codes', { auth: bob2.auth });
    expect(notPrimary.status).toBe(403);
    expect(notPrimary.body.code).toBe('NOT_PRIMARY');
    expect((await call(ts.url, 'DELETE', `/v1/devices/${bob3.deviceId}`, { auth: bob2.auth })).body.code).toBe('NOT_PRIMARY');
    expect((await call(ts.url, 'DELETE', '/v1/devices/1', { auth: bob.auth })).status).toBe(403);
    expect((await call(ts.url, 'DELETE', '/v1/devices/9', { auth: bob.auth })).status).toBe(404);
    expect((await call(ts.url, 'DELETE', `/v1/devices/${bob2.deviceId}`, { auth: bob2.auth })).status).toBe(200);
    expect((await call(ts.url, 'GET', '/v1/devices', { auth: bob.auth })).body.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1, 3]);
    // The freed id is reused by the next link.
    expect((await linkDevice(ts, bob)).deviceId).toBe(2);
  });

  it('stops at six devices', async () => {
    const carol = await registerAccount(ts);
    for (let i = 0; i < 5; i++) await linkDevice(ts, carol, { preKeys: 0, kyberPreKeys: 0 });
    const r = await call(ts.url, 'POST', '/v1/devices/link-codes', { auth: carol.auth });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('TOO_MANY_DEVICES');
  });

  it('expires link codes after ten minutes', async () => {
    let now = Date.now();
    const clocked = await startTestServer({}, { clock: () => now });
    try {
      const dave = await registerAccount(clocked);
      const { body } = await call(clocked.url, 'POST', '/v1/devices/link-codes', { auth: dave.auth });
      now += 10 * 60_000 + 1;
      const r = await call(clocked.url, 'POST', '/v1/link/request', { body: { code: body.code, publicKey: oneTimeKey() } });
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('INVALID_LINK_CODE');
      expect((await clocked.server.runExpiry()).linkCodes).toBe(1);
    } finally {
      await clocked.close();
    }
  });
});

describe('PUT /v1/accounts/identity', () => {
  it('replaces the identity, removes linked devices and drops queued envelopes', async () => {
    const bob = await registerAccount(ts);
    const bob2 = await linkDevice(ts, bob);
    await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, {
      auth: alice.auth,
      body: { timestamp: 1, messages: [bob, bob2].map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId, type: 2, content: 'AAAA' })) },
    });
    const notPrimary = await call(ts.url, 'PUT', '/v1/accounts/identity', { auth: bob2.auth, body: {} });
    expect(notPrimary.status).toBe(403);

    const identity = newIdentity();
    const password = newPassword();
    const r = await call(ts.url, 'PUT', '/v1/accounts/identity', {
      auth: bob.auth,
      body: { identityKey: b64(identity.publicKey.serialize()), registrationId: 999, password, ...generateDeviceKeys(identity).upload },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ accountId: bob.accountId, deviceId: 1, username: bob.username });
    expect((await call(ts.url, 'GET', '/v1/accounts/me', { auth: bob.auth })).status).toBe(401);
    expect((await call(ts.url, 'GET', '/v1/accounts/me', { auth: bob2.auth })).status).toBe(401);
    const { deviceAuthorization } = await import('@kluis/protocol');
    const fresh = deviceAuthorization(bob.accountId, 1, password);
    expect((await call(ts.url, 'GET', '/v1/accounts/me', { auth: fresh })).body.identityKey).toBe(b64(identity.publicKey.serialize()));
    const stale = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, {
      auth: alice.auth,
      body: { timestamp: 2, messages: [{ deviceId: 1, registrationId: bob.registrationId === 999 ? 998 : bob.registrationId, type: 2, content: 'AAAA' }] },
    });
    expect(stale.status).toBe(410);
    const { TestSocket } = await import('../test-support/socket-client.js');
    const socket = await TestSocket.connect(ts.url, fresh);
    expect(await socket.backlog()).toEqual([]);
    await socket.close();
  });
});
