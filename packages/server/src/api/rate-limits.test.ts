import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateKey } from '@signalapp/libsignal-client';
import { deviceAuthorization } from '@kluis/protocol';
import { ConfigError, loadServerConfig } from '../config.js';
import { INVITE_CODE_LENGTH, LINK_CODE_LENGTH, newCode } from '../auth/secrets.js';
import { registerAccount, sendBody, uniqueName, type TestDevice } from '../test-support/accounts.js';
import { accountIn, brandWithPlan, mintCodes } from '../test-support/admin.js';
import { call, type HttpResult } from '../test-support/http.js';
import { TestSocket } from '../test-support/socket-client.js';
import { generateDeviceKeys, newIdentity, newPassword, newRegistrationId } from '../test-support/keys.js';
import { sealedMultiMessage } from '../test-support/sessions.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

/**
 * The server's clock stands still unless a test moves it past a window: on a loaded
 * machine a loop of 120 requests takes long enough on the wall clock for buckets to
 * refill, which made the counts flaky.
 */
let offset = 0;
const base = Date.now();
const clock = () => base + offset;
let ts: TestServer;
let alice: TestDevice;
let bob: TestDevice;
const bobKey = randomBytes(16).toString('base64');

beforeAll(async () => {
  ts = await startTestServer({}, { clock });
  alice = await registerAccount(ts);
  bob = await registerAccount(ts);
  const set = await call(ts.url, 'PUT', '/v1/accounts/access-key', { auth: bob.auth, body: { accessKey: bobKey, unrestricted: false } });
  expect(set.status).toBe(200);
});
afterAll(() => ts.close());

const sealedTo = (accountId: string, key: string, to: TestDevice = bob) =>
  call(ts.url, 'PUT', `/v1/sealed/${accountId}`, { headers: { 'unidentified-access-key': key }, body: sendBody([to], 'sealed', 6) });
const wrongKey = () => randomBytes(16).toString('base64');

function expectLimited(r: HttpResult) {
  expect(r.status).toBe(429);
  expect(r.body).toEqual({ code: 'RATE_LIMITED', message: expect.stringMatching(/^too many .+; try again in \d+ s$/), retryAfterSeconds: expect.any(Number) });
  expect(r.headers.get('retry-after')).toBe(String(r.body.retryAfterSeconds));
  expect(r.body.retryAfterSeconds).toBeGreaterThanOrEqual(1);
}

describe('rate limits (on by default)', () => {
  it('sealed send: 30 wrong keys a minute per destination answer 401, then 429 with Retry-After; a correct key still goes through', async () => {
    for (let i = 0; i < 30; i++) expect((await sealedTo(bob.accountId, wrongKey())).status).toBe(401);
    const limited = await sealedTo(bob.accountId, wrongKey());
    expectLimited(limited);
    expect(limited.body.retryAfterSeconds).toBeLessThanOrEqual(2); // 30 a minute: a token every 2 s
    // The key is checked before the failure bucket: nobody can block sealed delivery to bob.
    expect((await sealedTo(bob.accountId, bobKey)).status).toBe(200);
    // Another destination is not affected.
    expect((await sealedTo(alice.accountId, wrongKey(), alice)).status).toBe(401);

    // After the window: wrong keys answer 401 again, the correct one still 200.
    offset += 60_000;
    expect((await sealedTo(bob.accountId, wrongKey())).status).toBe(401);
    expect((await sealedTo(bob.accountId, bobKey)).status).toBe(200);
  });

  it('sealed multi send: the combined key is checked for every destination; refusals charge each, then 429', async () => {
    // Fresh accounts: bob's failure bucket is part-used by the test above.
    const [carol, dave] = [await registerAccount(ts), await registerAccount(ts)];
    const [carolKey, daveKey] = [randomBytes(16), randomBytes(16)];
    for (const [d, k] of [[carol, carolKey], [dave, daveKey]] as const) {
      expect((await call(ts.url, 'PUT', '/v1/accounts/access-key', { auth: d.auth, body: { accessKey: k.toString('base64'), unrestricted: false } })).status).toBe(200);
    }
    const message = await multiRecipientMessage(alice, [carol, dave]);
    const multi = (key: Buffer) =>
      call(ts.url, 'PUT', '/v1/sealed', { headers: { 'unidentified-access-key': key.toString('base64') }, body: { timestamp: Date.now(), message } });
    const combined = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) combined[i] = carolKey[i]! ^ daveKey[i]!;
    expect((await multi(combined)).status).toBe(200);
    for (let i = 0; i < 30; i++) expect((await multi(randomBytes(16))).status).toBe(401);
    expectLimited(await multi(randomBytes(16)));
    // Both destinations were charged: a single wrong key to either is limited too.
    expectLimited(await sealedTo(carol.accountId, wrongKey(), carol));
    expectLimited(await sealedTo(dave.accountId, wrongKey(), dave));
    expect((await multi(combined)).status).toBe(200);
    offset += 60_000;
  });

  it('an unknown account is limited exactly like a known one (no existence oracle)', async () => {
    const nobody = '00000000-0000-4000-8000-00000000abcd';
    for (let i = 0; i < 30; i++) expect((await sealedTo(nobody, wrongKey())).status).toBe(401);
    expectLimited(await sealedTo(nobody, wrongKey()));
  });

  it('username lookups: 120 a minute per requesting account', async () => {
    for (let i = 0; i < 120; i++) {
      const r = await call(ts.url, 'GET', `/v1/accounts/username/${bob.username}`, { auth: alice.auth });
      expect(r.status).toBe(200);
    }
    expectLimited(await call(ts.url, 'GET', `/v1/accounts/username/${bob.username}`, { auth: alice.auth }));
    // bob's own bucket is untouched.
    expect((await call(ts.url, 'GET', `/v1/accounts/username/${alice.username}`, { auth: bob.auth })).status).toBe(200);
    offset += 60_000;
    expect((await call(ts.url, 'GET', `/v1/accounts/username/${bob.username}`, { auth: alice.auth })).status).toBe(200);
  });

  it('prekey uploads: 30 per 10 minutes per device', async () => {
    for (let i = 0; i < 30; i++) expect((await call(ts.url, 'PUT', '/v1/keys', { auth: alice.auth, body: {} })).status).toBe(200);
    const limited = await call(ts.url, 'PUT', '/v1/keys', { auth: alice.auth, body: {} });
    expectLimited(limited);
    expect(limited.body.retryAfterSeconds).toBe(20); // 30 per 600 s
    expect((await call(ts.url, 'PUT', '/v1/keys', { auth: bob.auth, body: {} })).status).toBe(200);
    offset += 20_000;
    expect((await call(ts.url, 'PUT', '/v1/keys', { auth: alice.auth, body: {} })).status).toBe(200);
  });

  it('link codes: 10 request attempts per live code in 2 minutes; unknown codes are the per-source bucket’s', async () => {
    const publicKey = Buffer.from(PrivateKey.generate().getPublicKey().serialize()).toString('base64');
    const request = (code: string) => call(ts.url, 'POST', '/v1/link/request', { body: { code, publicKey } });
    const code = (await call(ts.url, 'POST', '/v1/devices/link-codes', { auth: alice.auth })).body.code as string;
    expect((await request(code)).status).toBe(200);
    // Taken now: each further attempt is refused by state, and counts.
    for (let i = 0; i < 9; i++) expect((await request(code)).status).not.toBe(429);
    expectLimited(await request(code));
    // Another live code has its own bucket.
    const other = (await call(ts.url, 'POST', '/v1/devices/link-codes', { auth: alice.auth })).body.code as string;
    expect((await request(other)).status).toBe(200);
    offset += 5 * 60_000;
  });

  it('registration: 100 refused invites a minute per node, then 429 for everyone until tokens refill', async () => {
    const identity = newIdentity();
    const keys = generateDeviceKeys(identity, { preKeys: 1, kyberPreKeys: 1 });
    const body = (inviteCode: string) => ({
      inviteCode,
      username: uniqueName('limit'),
      identityKey: Buffer.from(identity.publicKey.serialize()).toString('base64'),
      registrationId: newRegistrationId(),
      password: newPassword(),
      ...keys.upload,
    });
    // Good registrations do not use up the bucket.
    for (let i = 0; i < 3; i++) await registerAccount(ts);
    for (let i = 0; i < 100; i++) {
      const r = await call(ts.url, 'POST', '/v1/accounts', { body: body(newCode(INVITE_CODE_LENGTH).display) });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('INVALID_INVITE');
    }
    const [invite] = await ts.mintInvites(1);
    expectLimited(await call(ts.url, 'POST', '/v1/accounts', { body: body(invite!) }));
    offset += 1_000; // 100 a minute: a token every 0.6 s
    const r = await call(ts.url, 'POST', '/v1/accounts', { body: body(invite!) });
    expect(r.status).toBe(200);
  });
});

describe('identified sends', () => {
  it('200 a second per sending device with a burst of 2,000, then 429 with Retry-After (HTTP and socket); other devices unaffected', async () => {
    offset += 60_000;
    const [sender, to] = [await registerAccount(ts), await registerAccount(ts)];
    const socket = await TestSocket.connect(ts.url, sender.auth);
    // Before: no limit at all on identified sends.
    let ok = 0;
    for (let i = 0; i < 2000; i += 250) {
      const batch = await Promise.all(Array.from({ length: 250 }, () => socket.request(to.accountId, sendBody([to], 'x'))));
      ok += batch.filter((r) => r.status === 200).length;
    }
    // The server's clock stands still: exactly the burst goes through, then 429.
    expect(ok).toBe(2000);
    const more = await Promise.all(Array.from({ length: 400 }, () => socket.request(to.accountId, sendBody([to], 'x'))));
    const refused = more.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(100);
    expect(refused[0]!.body).toEqual({ code: 'RATE_LIMITED', message: 'too many messages from this device; try again in 1 s', retryAfterSeconds: 1 });
    const overHttp = await Promise.all(Array.from({ length: 100 }, () => call(ts.url, 'PUT', `/v1/messages/${to.accountId}`, { auth: sender.auth, body: sendBody([to], 'x') })));
    expectLimited(overHttp.find((r) => r.status !== 200)!);
    // The recipient can still answer.
    expect((await call(ts.url, 'PUT', `/v1/messages/${sender.accountId}`, { auth: to.auth, body: sendBody([sender], 'y') })).status).toBe(200);
    offset += 1_000;
    expect((await socket.request(to.accountId, sendBody([to], 'x'))).status).toBe(200);
    await socket.close();
  });
});

describe('per-account and per-requester guess limits', () => {
  it('renewal codes: 10 refused per 10 minutes per account, then 429; a right code is never charged, and a mistyper waits a minute', async () => {
    const brand = await brandWithPlan(ts, `renew-${randomBytes(3).toString('hex')}`);
    const user = await accountIn(ts, brand);
    const other = await accountIn(ts, brand);
    const renew = (who: TestDevice, code: string) => call(ts.url, 'POST', '/v1/subscription/renew', { auth: who.auth, body: { code } });
    // Good renewals do not use up the bucket.
    for (const code of await mintCodes(ts, brand, 'renewal', 3)) expect((await renew(user, code)).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      const r = await renew(user, newCode(INVITE_CODE_LENGTH).display);
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('INVALID_CODE');
    }
    const [good] = await mintCodes(ts, brand, 'renewal');
    // Before: the 11th guess was looked up like the first (1,285 a second).
    const limited = await renew(user, good!);
    expectLimited(limited);
    expect(limited.body.retryAfterSeconds).toBe(60);
    // Someone else's account is not affected.
    expect((await renew(other, newCode(INVITE_CODE_LENGTH).display)).status).toBe(403);
    offset += 60_000;
    expect((await renew(user, good!)).status).toBe(200);
    offset += 10 * 60_000;
  });

  it('link codes: 20 unknown codes per source in 5 minutes across request, complete and fetch, then 429 (a live code is never charged)', async () => {
    offset += 5 * 60_000; // the per-code test above spent some of this source's tokens
    const publicKey = Buffer.from(PrivateKey.generate().getPublicKey().serialize()).toString('base64');
    const guess = (i: number) => {
      const code = newCode(LINK_CODE_LENGTH).display;
      if (i % 3 === 0) return call(ts.url, 'POST', '/v1/link/request', { body: { code, publicKey } });
      if (i % 3 === 1) return call(ts.url, 'POST', '/v1/link/fetch', { body: { code } });
      const keys = generateDeviceKeys(alice.identity, { preKeys: 1, kyberPreKeys: 1 });
      return call(ts.url, 'POST', '/v1/link/complete', { body: { code, registrationId: newRegistrationId(), password: newPassword(), ...keys.upload } });
    };
    // A real linking (create, request, polls) in between costs nothing.
    const created = await call(ts.url, 'POST', '/v1/devices/link-codes', { auth: alice.auth });
    expect(created.status).toBe(200);
    expect((await call(ts.url, 'POST', '/v1/link/request', { body: { code: created.body.code, publicKey } })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await call(ts.url, 'POST', '/v1/link/fetch', { body: { code: created.body.code } })).status).toBe(200);
    // Before: each guess had its own per-code bucket, so 2,130 a second went through.
    for (let i = 0; i < 20; i++) expect((await guess(i)).status).toBe(404);
    for (let i = 0; i < 3; i++) expectLimited(await guess(i));
    // Refused before the lookup, live code or not: a 429 must not tell a hit from a miss.
    expectLimited(await call(ts.url, 'POST', '/v1/link/fetch', { body: { code: created.body.code } }));
    offset += 15_000; // 20 per 5 minutes: a token every 15 s
    // A live code gives its token back, so polling it goes on…
    for (let i = 0; i < 3; i++) expect((await call(ts.url, 'POST', '/v1/link/fetch', { body: { code: created.body.code } })).status).toBe(200);
    // …while each miss costs one.
    expect((await guess(0)).status).toBe(404);
    expectLimited(await guess(1));
    offset += 5 * 60_000;
  });
});

describe('rate-limit tables a flood cannot reset', () => {
  it('--rate-limit-keys 100: a device’s failed logins limited, then 150 other devices tried; the first is still limited', async () => {
    const small = await startTestServer({ rateLimitKeys: 100 });
    try {
      const wrong = (accountId: string) => call(small.url, 'GET', '/v1/accounts/me', { auth: deviceAuthorization(accountId, 1, newPassword()) });
      const target = randomUUID();
      for (let i = 0; i < 20; i++) expect((await wrong(target)).status).toBe(401);
      expectLimited(await wrong(target));
      // More keys than the table holds: before, the least recently used (the drained one) went first.
      for (let i = 0; i < 150; i++) expect([401, 429]).toContain((await wrong(randomUUID())).status);
      expectLimited(await wrong(target));
      // The flood went to the kind's shared sketch (counted), not over anyone's bucket.
      const metrics = await (await fetch(`${small.url}/metrics`)).text();
      expect(Number(/^kluis_rate_limit_overflows_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    } finally {
      await small.close();
    }
  }, 60_000);

  it('is a config switch: --rate-limit-keys / KLUIS_RATE_LIMIT_KEYS, 50,000 per kind by default', () => {
    expect(loadServerConfig({ flags: {}, env: {} }).rateLimitKeys).toBe(50_000);
    expect(loadServerConfig({ flags: { 'rate-limit-keys': '1000' }, env: {} }).rateLimitKeys).toBe(1000);
    expect(loadServerConfig({ flags: {}, env: { KLUIS_RATE_LIMIT_KEYS: '2000' } }).rateLimitKeys).toBe(2000);
    expect(() => loadServerConfig({ flags: { 'rate-limit-keys': '10' }, env: {} })).toThrow(ConfigError);
  });
});

describe('--rate-limits off', () => {
  it('never answers 429', async () => {
    const off = await startTestServer({ rateLimits: false });
    try {
      const carol = await registerAccount(off);
      const set = await call(off.url, 'PUT', '/v1/accounts/access-key', { auth: carol.auth, body: { accessKey: bobKey, unrestricted: false } });
      expect(set.status).toBe(200);
      for (let i = 0; i < 40; i++) {
        const r = await call(off.url, 'PUT', `/v1/sealed/${carol.accountId}`, { headers: { 'unidentified-access-key': wrongKey() }, body: sendBody([carol], 'x', 6) });
        expect(r.status).toBe(401);
      }
    } finally {
      await off.close();
    }
  });

  it('is a config switch: --rate-limits / KLUIS_RATE_LIMITS, on by default', () => {
    expect(loadServerConfig({ flags: {}, env: {} }).rateLimits).toBe(true);
    expect(loadServerConfig({ flags: { 'rate-limits': 'off' }, env: {} }).rateLimits).toBe(false);
    expect(loadServerConfig({ flags: {}, env: { KLUIS_RATE_LIMITS: 'OFF' } }).rateLimits).toBe(false);
    expect(loadServerConfig({ flags: { rateLimits: 'on' }, env: { KLUIS_RATE_LIMITS: 'off' } }).rateLimits).toBe(true);
    expect(() => loadServerConfig({ flags: { 'rate-limits': 'maybe' }, env: {} })).toThrow(ConfigError);
  });
});

const multiRecipientMessage = (from: TestDevice, to: TestDevice[]) => sealedMultiMessage(ts.url, from, to);
