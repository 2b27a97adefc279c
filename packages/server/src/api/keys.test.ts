import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, linkDevice, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { b64, generateDeviceKeys, newIdentity } from '../test-support/keys.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
let alice: TestDevice;
let bob: TestDevice;
beforeAll(async () => {
  ts = await startTestServer();
  alice = await registerAccount(ts, { preKeys: 2, kyberPreKeys: 1 });
  bob = await registerAccount(ts, { preKeys: 0, kyberPreKeys: 0 });
});
afterAll(() => ts.close());

describe('keys', () => {
  it('counts, hands out one-time keys once, then falls back to the last-resort Kyber key', async () => {
    expect((await call(ts.url, 'GET', '/v1/keys/count', { auth: alice.auth })).body).toEqual({ preKeys: 2, kyberPreKeys: 1 });

    const first = await call(ts.url, 'GET', `/v1/keys/${alice.accountId}/1`, { auth: bob.auth });
    expect(first.status).toBe(200);
    expect(first.body.identityKey).toBe(b64(alice.identity.publicKey.serialize()));
    expect(first.body.devices).toHaveLength(1);
    const d = first.body.devices[0];
    expect(d).toMatchObject({ deviceId: 1, registrationId: alice.registrationId, signedPreKey: alice.keys.upload.signedPreKey });
    expect(d.preKey).toEqual(alice.keys.upload.preKeys[0]);
    expect(d.kyberPreKey).toEqual(alice.keys.upload.kyberPreKeys[0]);

    const second = (await call(ts.url, 'GET', `/v1/keys/${alice.accountId}/*`, { auth: bob.auth })).body.devices[0];
    expect(second.preKey).toEqual(alice.keys.upload.preKeys[1]);
    expect(second.kyberPreKey).toEqual(alice.keys.upload.kyberLastResort);

    const third = (await call(ts.url, 'GET', `/v1/keys/${alice.accountId}/1`, { auth: bob.auth })).body.devices[0];
    expect(third.preKey).toBeUndefined();
    expect(third.kyberPreKey).toEqual(alice.keys.upload.kyberLastResort);
    expect((await call(ts.url, 'GET', '/v1/keys/count', { auth: alice.auth })).body).toEqual({ preKeys: 0, kyberPreKeys: 0 });
  });

  it('refills and rotates keys, verifying every signature', async () => {
    const more = generateDeviceKeys(bob.identity, { preKeys: 100, kyberPreKeys: 100, firstId: 500 });
    const r = await call(ts.url, 'PUT', '/v1/keys', { auth: bob.auth, body: more.upload });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ preKeys: 100, kyberPreKeys: 100 });
    const bundle = (await call(ts.url, 'GET', `/v1/keys/${bob.accountId}/1`, { auth: alice.auth })).body.devices[0];
    expect(bundle.signedPreKey).toEqual(more.upload.signedPreKey);
    expect(bundle.preKey.keyId).toBe(500);

    const forged = generateDeviceKeys(bob.identity, { kyberPreKeys: 1, signWith: newIdentity(), firstId: 900 });
    const bad = await call(ts.url, 'PUT', '/v1/keys', { auth: bob.auth, body: { kyberPreKeys: forged.upload.kyberPreKeys } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: 'INVALID_SIGNATURE', message: expect.stringMatching(/kyberPreKeys\[0\]/) });

    const tooMany = generateDeviceKeys(bob.identity, { preKeys: 101, firstId: 2000 });
    const over = await call(ts.url, 'PUT', '/v1/keys', { auth: bob.auth, body: { preKeys: tooMany.upload.preKeys } });
    expect(over.status).toBe(400);
    expect(over.body.message).toMatch(/preKeys/);

    const garbage = await call(ts.url, 'PUT', '/v1/keys', {
      auth: bob.auth,
      body: { preKeys: [{ keyId: 1, publicKey: Buffer.alloc(33, 1).toString('base64') }] },
    });
    expect(garbage.status).toBe(400);
    expect(garbage.body.message).toMatch(/preKeys\[0\]/);
  });

  it('answers 404 for unknown accounts and devices, and leaves the asking device out of its own "*"', async () => {
    expect((await call(ts.url, 'GET', `/v1/keys/00000000-0000-4000-8000-000000000000/*`, { auth: alice.auth })).status).toBe(404);
    expect((await call(ts.url, 'GET', `/v1/keys/${alice.accountId}/5`, { auth: bob.auth })).status).toBe(404);
    const linked = await linkDevice(ts, alice);
    const own = await call(ts.url, 'GET', `/v1/keys/${alice.accountId}/*`, { auth: alice.auth });
    expect(own.body.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([linked.deviceId]);
    const all = await call(ts.url, 'GET', `/v1/keys/${alice.accountId}/*`, { auth: bob.auth });
    expect(all.body.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1, linked.deviceId]);
  });

  it('keeps at most 200 one-time EC and 200 Kyber prekeys per device: past that 409 TOO_MANY_PREKEYS, and the upload stores nothing', async () => {
    const dave = await registerAccount(ts, { preKeys: 0, kyberPreKeys: 0 });
    const upload = (body: object) => call(ts.url, 'PUT', '/v1/keys', { auth: dave.auth, body });
    const first = generateDeviceKeys(dave.identity, { preKeys: 100, kyberPreKeys: 100, firstId: 3000 });
    const second = generateDeviceKeys(dave.identity, { preKeys: 100, kyberPreKeys: 100, firstId: 4000 });
    expect((await upload({ preKeys: first.upload.preKeys, kyberPreKeys: first.upload.kyberPreKeys })).body).toEqual({ preKeys: 100, kyberPreKeys: 100 });
    // The SDK's refill (100 when fewer than 10 are left) always fits: 200 is allowed.
    expect((await upload({ preKeys: second.upload.preKeys, kyberPreKeys: second.upload.kyberPreKeys })).body).toEqual({ preKeys: 200, kyberPreKeys: 200 });
    const extra = generateDeviceKeys(dave.identity, { preKeys: 1, kyberPreKeys: 1, firstId: 5000 });
    for (const body of [{ preKeys: extra.upload.preKeys }, { kyberPreKeys: extra.upload.kyberPreKeys }]) {
      const over = await upload(body);
      expect(over.status).toBe(409);
      expect(over.body).toEqual({ code: 'TOO_MANY_PREKEYS', message: expect.stringMatching(/at most 200 per device/), max: 200 });
    }
    // A refused upload changed nothing, not even its rotation of the signed key.
    const rotated = generateDeviceKeys(dave.identity, { preKeys: 1, firstId: 6000 });
    expect((await upload({ preKeys: rotated.upload.preKeys, signedPreKey: rotated.upload.signedPreKey })).status).toBe(409);
    const bundle = await call(ts.url, 'GET', `/v1/keys/${dave.accountId}/1`, { auth: bob.auth });
    expect(bundle.body.devices[0].signedPreKey).toEqual(dave.keys.upload.signedPreKey);
    expect((await call(ts.url, 'GET', '/v1/keys/count', { auth: dave.auth })).body).toEqual({ preKeys: 199, kyberPreKeys: 199 });
    // Re-uploading stored ids replaces them and counts once; the one just handed out (3000) fits again.
    expect((await upload({ preKeys: second.upload.preKeys.slice(0, 50) })).body).toEqual({ preKeys: 199, kyberPreKeys: 199 });
    expect((await upload({ preKeys: first.upload.preKeys.slice(0, 1) })).body).toEqual({ preKeys: 200, kyberPreKeys: 199 });
  });

  it('hands each one-time key to exactly one of many concurrent fetchers', async () => {
    const carol = await registerAccount(ts, { preKeys: 5, kyberPreKeys: 5 });
    const results = await Promise.all(Array.from({ length: 10 }, () => call(ts.url, 'GET', `/v1/keys/${carol.accountId}/1`, { auth: bob.auth })));
    const ec = results.map((r) => r.body.devices[0].preKey?.keyId).filter((id) => id !== undefined);
    const kyber = results.map((r) => r.body.devices[0].kyberPreKey.keyId);
    expect(ec.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(kyber.filter((id) => id !== carol.keys.lastResort.id())).size).toBe(5);
    expect(kyber.filter((id) => id === carol.keys.lastResort.id())).toHaveLength(5);
  });
});
