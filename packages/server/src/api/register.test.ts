import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, uniqueName } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { b64, generateDeviceKeys, newIdentity, newPassword } from '../test-support/keys.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(() => ts.close());

function registration(invite: string, username: string, identity = newIdentity()) {
  return {
    inviteCode: invite,
    username,
    identityKey: b64(identity.publicKey.serialize()),
    registrationId: 4242,
    password: newPassword(),
    ...generateDeviceKeys(identity, { preKeys: 1, kyberPreKeys: 1 }).upload,
  };
}

describe('POST /v1/accounts', () => {
  it('redeems the first-start invite and returns the primary device', async () => {
    const r = await call(ts.url, 'POST', '/v1/accounts', { body: registration(ts.invite, 'First.User') });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ accountId: expect.stringMatching(/^[0-9a-f-]{36}$/), deviceId: 1, username: 'first.user' });
  });

  it('rejects a reused invite', async () => {
    const [invite] = await ts.mintInvites(1);
    expect((await call(ts.url, 'POST', '/v1/accounts', { body: registration(invite!, uniqueName()) })).status).toBe(200);
    const again = await call(ts.url, 'POST', '/v1/accounts', { body: registration(invite!, uniqueName()) });
    expect(again.status).toBe(403);
    expect(again.body.code).toBe('INVALID_INVITE');
    expect(again.body.message).toMatch(/already used/);
  });

  it('accepts the invite typed loosely (lowercase, no dashes, O for 0)', async () => {
    const [invite] = await ts.mintInvites(1);
    const sloppy = invite!.replace(/-/g, '').toLowerCase().replace(/0/g, 'o');
    expect((await call(ts.url, 'POST', '/v1/accounts', { body: registration(sloppy, uniqueName()) })).status).toBe(200);
  });

  it('rejects unknown and malformed invites', async () => {
    for (const code of ['AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-G', 'short', '!!!!']) {
      const r = await call(ts.url, 'POST', '/v1/accounts', { body: registration(code, uniqueName()) });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('INVALID_INVITE');
    }
  });

  it('makes exactly one account from one invite redeemed concurrently', async () => {
    const [invite] = await ts.mintInvites(1);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => call(ts.url, 'POST', '/v1/accounts', { body: registration(invite!, uniqueName()) })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expect(r.body.code).toBe('INVALID_INVITE');
  });

  it('rejects invalid usernames with the rule, before touching the invite', async () => {
    const [invite] = await ts.mintInvites(1);
    for (const name of ['ab', 'x'.repeat(33), 'has space', 'émile', 'dash-name', '']) {
      const r = await call(ts.url, 'POST', '/v1/accounts', { body: registration(invite!, name) });
      expect(r.status, name).toBe(400);
      expect(r.body.code).toBe(name === '' ? 'BAD_REQUEST' : 'INVALID_USERNAME');
      if (name) expect(r.body.message).toMatch(/3 to 32 characters of a-z, 0-9/);
    }
    // The invite is still good.
    expect((await call(ts.url, 'POST', '/v1/accounts', { body: registration(invite!, uniqueName()) })).status).toBe(200);
  });

  it('refuses a taken username (case-insensitively) and keeps the invite unused', async () => {
    const name = uniqueName('taken');
    await registerAccount(ts, { username: name });
    const [invite] = await ts.mintInvites(1);
    const r = await call(ts.url, 'POST', '/v1/accounts', { body: registration(invite!, name.toUpperCase()) });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ code: 'USERNAME_TAKEN', message: expect.stringMatching(/taken/) });
    expect((await call(ts.url, 'POST', '/v1/accounts', { body: registration(invite!, uniqueName()) })).status).toBe(200);
  });

  it('refuses keys not signed by the identity key', async () => {
    const [invite] = await ts.mintInvites(1);
    const identity = newIdentity();
    const body = { ...registration(invite!, uniqueName(), identity), ...generateDeviceKeys(identity, { signWith: newIdentity() }).upload };
    const r = await call(ts.url, 'POST', '/v1/accounts', { body });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('INVALID_SIGNATURE');
    expect(r.body.message).toMatch(/signedPreKey/);
  });

  it('refuses a malformed identity key', async () => {
    const [invite] = await ts.mintInvites(1);
    const body = { ...registration(invite!, uniqueName()), identityKey: Buffer.alloc(33, 7).toString('base64') };
    const r = await call(ts.url, 'POST', '/v1/accounts', { body });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('BAD_REQUEST');
    expect(r.body.message).toMatch(/identityKey/);
  });

  it('serves whoami and username lookup to the new device', async () => {
    const alice = await registerAccount(ts);
    const me = await call(ts.url, 'GET', '/v1/accounts/me', { auth: alice.auth });
    expect(me.body).toEqual({ accountId: alice.accountId, username: alice.username, deviceId: 1, identityKey: b64(alice.identity.publicKey.serialize()) });
    const found = await call(ts.url, 'GET', `/v1/accounts/username/${alice.username.toUpperCase()}`, { auth: alice.auth });
    expect(found.body).toEqual({ accountId: alice.accountId, username: alice.username });
    const missing = await call(ts.url, 'GET', '/v1/accounts/username/nobody_here', { auth: alice.auth });
    expect(missing.status).toBe(404);
    expect((await call(ts.url, 'GET', `/v1/accounts/username/${alice.username}`)).status).toBe(401);
  });
});
