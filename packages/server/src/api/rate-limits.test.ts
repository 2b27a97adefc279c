import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContentHint,
  PrivateKey,
  SenderCertificate,
  ServerCertificate,
  UnidentifiedSenderMessageContent,
  sealedSenderMultiRecipientEncrypt,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import { ConfigError, loadServerConfig } from '../config.js';
import { INVITE_CODE_LENGTH, LINK_CODE_LENGTH, newCode } from '../auth/secrets.js';
import { registerAccount, sendBody, uniqueName, type TestDevice } from '../test-support/accounts.js';
import { call, type HttpResult } from '../test-support/http.js';
import { generateDeviceKeys, newIdentity, newPassword, newRegistrationId } from '../test-support/keys.js';
import { addressOf, startSession } from '../test-support/sessions.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

/** The server's clock runs this far ahead of the wall clock: tests move it past a window. */
let offset = 0;
const clock = () => Date.now() + offset;
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

  it('link codes: 10 request attempts per code in 2 minutes', async () => {
    const code = newCode(LINK_CODE_LENGTH).display; // unknown: limited before the lookup, like any
    const publicKey = Buffer.from(PrivateKey.generate().getPublicKey().serialize()).toString('base64');
    for (let i = 0; i < 10; i++) expect((await call(ts.url, 'POST', '/v1/link/request', { body: { code, publicKey } })).status).toBe(404);
    expectLimited(await call(ts.url, 'POST', '/v1/link/request', { body: { code, publicKey } }));
    // Another code has its own bucket.
    expect((await call(ts.url, 'POST', '/v1/link/request', { body: { code: newCode(LINK_CODE_LENGTH).display, publicKey } })).status).toBe(404);
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

/** A real libsignal multi-recipient sealed message from `from` to each device (sessions made from fetched bundles). */
async function multiRecipientMessage(from: TestDevice, to: TestDevice[]): Promise<string> {
  const addr = addressOf;
  for (const d of to) await startSession(ts.url, from, d);
  // The server never checks the certificate (recipients do): any one will do here.
  const root = PrivateKey.generate();
  const serverKey = PrivateKey.generate();
  const cert = SenderCertificate.new(from.accountId, null, from.deviceId, from.identity.publicKey, Date.now() + 86_400_000, ServerCertificate.new(1, serverKey.getPublicKey(), root), serverKey);
  const inner = await signalEncrypt(new Uint8Array(32), addr(to[0]!), addr(from), from.signal.sessions, from.signal.identities);
  const usmc = UnidentifiedSenderMessageContent.new(inner, cert, ContentHint.Default, null);
  const bytes = await sealedSenderMultiRecipientEncrypt({ content: usmc, recipients: to.map(addr), identityStore: from.signal.identities, sessionStore: from.signal.sessions });
  return Buffer.from(bytes).toString('base64');
}
