import { randomBytes } from 'node:crypto';
import { deviceAuthorization, MAX_PROFILE_CIPHERTEXT_BYTES } from '@kluis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, linkDevice, type TestDevice } from '../test-support/accounts.js';
import { admin } from '../test-support/admin.js';
import { call, type HttpResult } from '../test-support/http.js';
import { b64, generateDeviceKeys, newIdentity, newPassword } from '../test-support/keys.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
let alice: TestDevice;
let bob: TestDevice;
beforeAll(async () => {
  ts = await startTestServer();
  alice = await registerAccount(ts);
  bob = await registerAccount(ts);
});
afterAll(() => ts.close());

const version = () => randomBytes(32).toString('hex');
const profile = (bytes = 1024) => ({ version: version(), ciphertext: randomBytes(bytes).toString('base64') });
const put = (d: TestDevice, body: unknown) => call(ts.url, 'PUT', '/v1/profile', { auth: d.auth, body });
const get = (d: TestDevice, accountId: string) => call(ts.url, 'GET', `/v1/profile/${accountId}`, { auth: d.auth });

function expectError(r: HttpResult, status: number, code: string, message?: RegExp): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toMatchObject({ code, message: expect.any(String) });
  if (message) expect(r.body.message).toMatch(message);
}

describe('profiles', () => {
  it('stores the ciphertext and version as given and hands them to any subscriber', async () => {
    expectError(await get(bob, alice.accountId), 404, 'NOT_FOUND');
    const first = profile();
    expect(await put(alice, first)).toMatchObject({ status: 200, body: {} });
    expect((await get(bob, alice.accountId)).body).toEqual(first);
    expect((await get(alice, alice.accountId)).body).toEqual(first);

    const second = profile(16 * 1024);
    expect((await put(alice, second)).status).toBe(200);
    expect((await get(bob, alice.accountId)).body).toEqual(second);
    // Bob's write touched only Bob's row.
    expect((await put(bob, first)).status).toBe(200);
    expect((await get(alice, alice.accountId)).body).toEqual(second);
  });

  it('lets a linked device write the account profile', async () => {
    const carol = await registerAccount(ts);
    const carol2 = await linkDevice(ts, carol);
    const p = profile();
    expect((await put(carol2, p)).status).toBe(200);
    expect((await get(alice, carol.accountId)).body).toEqual(p);
  });

  it('accepts the largest ciphertext and refuses bigger ones', async () => {
    const dave = await registerAccount(ts);
    const max = profile(MAX_PROFILE_CIPHERTEXT_BYTES);
    expect((await put(dave, max)).status).toBe(200);
    expectError(await put(dave, profile(MAX_PROFILE_CIPHERTEXT_BYTES + 1)), 400, 'BAD_REQUEST', /ciphertext/);
    expect((await get(alice, dave.accountId)).body).toEqual(max);
  });

  it('refuses bad input with a reason and changes nothing', async () => {
    const erin = await registerAccount(ts);
    const kept = profile();
    await put(erin, kept);
    const ct = kept.ciphertext;
    const bad: Array<[unknown, RegExp]> = [
      [{ version: version().toUpperCase(), ciphertext: ct }, /version/],
      [{ version: version().slice(2), ciphertext: ct }, /version/],
      [{ version: 'x'.repeat(64), ciphertext: ct }, /version/],
      [{ ciphertext: ct }, /version/],
      [{ version: version() }, /ciphertext/],
      [{ version: version(), ciphertext: '' }, /empty/],
      [{ version: version(), ciphertext: 'not base64!' }, /ciphertext/],
      [{ version: version(), ciphertext: 'AAA=A' }, /ciphertext/],
      [{ version: version(), ciphertext: 'AAA' }, /canonical/],
      [{ version: version(), ciphertext: 'AB==' }, /canonical/],
      [{ version: version(), ciphertext: 'AB' }, /canonical/],
      [{ version: version(), ciphertext: 1234 }, /ciphertext/],
      [{ ...kept, name: 'Erin' }, /name/],
      [[], /body/],
    ];
    for (const [body, reason] of bad) expectError(await put(erin, body), 400, 'BAD_REQUEST', reason);
    expectError(await call(ts.url, 'PUT', '/v1/profile', { auth: erin.auth, raw: '{"version":' }), 400, 'BAD_REQUEST');
    expect((await get(alice, erin.accountId)).body).toEqual(kept);

    expectError(await call(ts.url, 'GET', '/v1/profile/not-a-uuid', { auth: alice.auth }), 400, 'BAD_REQUEST', /accountId/);
    expectError(await get(alice, '00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
  });

  it('needs device credentials for reading and writing', async () => {
    expectError(await call(ts.url, 'GET', `/v1/profile/${alice.accountId}`), 401, 'UNAUTHORIZED');
    expectError(await call(ts.url, 'PUT', '/v1/profile', { body: profile() }), 401, 'UNAUTHORIZED');
    const wrong = deviceAuthorization(alice.accountId, 1, newPassword());
    expectError(await call(ts.url, 'PUT', '/v1/profile', { auth: wrong, body: profile() }), 401, 'UNAUTHORIZED');
  });

  it('keeps the profile across a re-registration (the client uploads a fresh one)', async () => {
    const frank = await registerAccount(ts);
    const p = profile();
    await put(frank, p);
    const identity = newIdentity();
    const password = newPassword();
    const r = await call(ts.url, 'PUT', '/v1/accounts/identity', {
      auth: frank.auth,
      body: { identityKey: b64(identity.publicKey.serialize()), registrationId: 4242, password, ...generateDeviceKeys(identity).upload },
    });
    expect(r.status).toBe(200);
    expect((await get(alice, frank.accountId)).body).toEqual(p);
  });

  it('deletes the profile with the account', async () => {
    const gina = await registerAccount(ts);
    await put(gina, profile());
    const r = await admin(ts, ts.operatorToken, 'DELETE', `/admin/accounts/${gina.accountId}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expectError(await get(alice, gina.accountId), 404, 'NOT_FOUND');
    const peek = openSqliteForTest(ts.dataDir);
    try {
      expect(peek.count('profiles', gina.accountId)).toBe(0);
    } finally {
      peek.close();
    }
  });
});
