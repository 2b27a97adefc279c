/**
 * Failed device logins against a real server: limited per device (429 with Retry-After,
 * no argon2 past the limit), the owner's right password still works, and an unknown
 * device is answered after the same work as a known one with a wrong password.
 */
import { randomUUID } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { deviceAuthorization } from '@kluis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig } from '../config.js';
import { registerAccount, type TestDevice } from '../test-support/accounts.js';
import { call, type HttpResult } from '../test-support/http.js';
import { newPassword } from '../test-support/keys.js';
import { TestSocket } from '../test-support/socket-client.js';
import { removeTempDirs, startTestServer, tempDir, type TestServer } from '../test-support/test-server.js';
import { sameTiming } from '../test-support/timing.js';

const whoami = (auth: string) => call(ts.url, 'GET', '/v1/accounts/me', { auth });

function expectLimited(r: HttpResult) {
  expect(r.status).toBe(429);
  expect(r.body).toEqual({ code: 'RATE_LIMITED', message: expect.stringMatching(/^too many failed logins for this device; try again in \d+ s$/), retryAfterSeconds: expect.any(Number) });
  expect(r.headers.get('retry-after')).toBe(String(r.body.retryAfterSeconds));
}

/** Socket upgrade: undefined when it opened, else the refusal's status and body. */
async function socketLogin(auth: string): Promise<{ status?: number; body?: { code: string; retryAfterSeconds?: number } } | undefined> {
  return TestSocket.connect(ts.url, auth).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (err: { status?: number; body?: { code: string } }) => err,
  );
}

let ts: TestServer;
let offset = 0;

/** GET /v1/accounts/me from a chosen loopback address (Linux routes all of 127/8 to lo). */
function statusFrom(url: string, localAddress: string, auth: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${url}/v1/accounts/me`, { localAddress, headers: { authorization: auth } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

describe('failed device logins are limited per device', () => {
  let alice: TestDevice;
  let bob: TestDevice;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await tempDir();
    ts = await startTestServer({ dataDir }, { clock: () => Date.now() + offset });
    [alice, bob] = [await registerAccount(ts), await registerAccount(ts)];
  });
  afterAll(async () => {
    await ts.close();
    await removeTempDirs();
  });

  it('20 wrong passwords a minute answer 401, then 429 with Retry-After, over HTTP and the socket alike', async () => {
    const wrong = () => deviceAuthorization(alice.accountId, alice.deviceId, newPassword());
    for (let i = 0; i < 20; i++) expect((await whoami(wrong())).status).toBe(401);
    const limited = await whoami(wrong());
    expectLimited(limited);
    expect(limited.body.retryAfterSeconds).toBe(3); // 20 a minute: a token every 3 s
    // The socket takes the same path and the same bucket.
    const refused = await socketLogin(wrong());
    expect(refused?.status).toBe(429);
    expect(refused?.body?.code).toBe('RATE_LIMITED');
    // Another device is not affected.
    expect((await whoami(bob.auth)).status).toBe(200);
  });

  it('after a restart (nothing cached) the owner is refused only while the attack lasts, and a right password costs no token', async () => {
    await ts.close();
    ts = await startTestServer({ dataDir }, { clock: () => Date.now() + offset });
    for (let i = 0; i < 20; i++) expect((await whoami(deviceAuthorization(bob.accountId, bob.deviceId, newPassword()))).status).toBe(401);
    // While the bucket is empty the owner's first login here waits too (no argon2 for anyone).
    expectLimited(await whoami(bob.auth));
    // The attacker stops: one token later (3 s) the owner is in.
    offset += 3_000;
    expect((await whoami(bob.auth)).status).toBe(200);
    // That success gave its token back: a wrong password now is a 401, not a 429.
    expect((await whoami(deviceAuthorization(bob.accountId, bob.deviceId, newPassword()))).status).toBe(401);
    expectLimited(await whoami(deviceAuthorization(bob.accountId, bob.deviceId, newPassword())));
    // Cached now: the owner is not refused even with the bucket empty.
    expect((await whoami(bob.auth)).status).toBe(200);
  });

  it('failures elsewhere do not lock the owner out: the bucket is per device and source address', async () => {
    // Before: keyed by the device alone, so anyone who knew its id (every contact) could
    // keep the owner's fresh logins at 429 with a wrong password every 3 s.
    await ts.close();
    ts = await startTestServer({ dataDir }, { clock: () => Date.now() + offset });
    const from = (localAddress: string, auth: string) => statusFrom(ts.url, localAddress, auth);
    for (let i = 0; i < 20; i++) expect(await from('127.0.0.2', deviceAuthorization(alice.accountId, alice.deviceId, newPassword()))).toBe(401);
    expect(await from('127.0.0.2', deviceAuthorization(alice.accountId, alice.deviceId, newPassword()))).toBe(429);
    // The owner, elsewhere and not cached after the restart, logs in.
    expect(await from('127.0.0.1', alice.auth)).toBe(200);
  });

  it('a device whose login is cached on this node is never locked out by someone else’s failures', async () => {
    const carol = await registerAccount(ts);
    expect((await whoami(carol.auth)).status).toBe(200);
    for (let i = 0; i < 25; i++) await whoami(deviceAuthorization(carol.accountId, carol.deviceId, newPassword()));
    expectLimited(await whoami(deviceAuthorization(carol.accountId, carol.deviceId, newPassword())));
    expect((await whoami(carol.auth)).status).toBe(200);
    expect(await socketLogin(carol.auth)).toBeUndefined();
  });

  it('unknown devices and accounts are limited exactly like known ones (no existence oracle)', async () => {
    const unknownAccount = deviceAuthorization(randomUUID(), 1, newPassword());
    const unknownDevice = deviceAuthorization(alice.accountId, 5, newPassword());
    for (const auth of [unknownAccount, unknownDevice]) {
      for (let i = 0; i < 20; i++) expect((await whoami(auth)).status).toBe(401);
      expectLimited(await whoami(auth));
    }
  });
});

describe('failed device logins on the whole node', () => {
  it('a flood of invented devices gets 600 argon2 checks at once, then 429 for everyone until it stops; a cached login still works', async () => {
    const base = Date.now();
    let shift = 0;
    const node = await startTestServer({}, { clock: () => base + shift });
    try {
      const owner = await registerAccount(node);
      // Before: each invented account id had a bucket of its own, so a flood was unbounded.
      const invented = () => call(node.url, 'GET', '/v1/accounts/me', { auth: deviceAuthorization(randomUUID(), 1, newPassword()) });
      let refused: HttpResult | undefined;
      let checked = 0;
      for (let i = 0; i < 700 && !refused; i++) {
        const r = await invented();
        if (r.status === 401) checked++;
        else refused = r;
      }
      expect(checked).toBe(600);
      expect(refused?.status).toBe(429);
      expect(refused?.body.message).toMatch(/^too many failed logins on this server; try again in \d+ s$/);
      // The owner, logged in before (cached on this node), is not refused.
      expect((await call(node.url, 'GET', '/v1/accounts/me', { auth: owner.auth })).status).toBe(200);
      shift += 60_000;
      expect((await invented()).status).toBe(401);
    } finally {
      await node.close();
    }
  });
});

describe('--device-login-failures-per-minute', () => {
  it('is a flag and an env variable, 20 by default, and sets the bucket', async () => {
    expect(loadServerConfig({ flags: {}, env: {} }).deviceLoginFailuresPerMinute).toBe(20);
    expect(loadServerConfig({ flags: { 'device-login-failures-per-minute': '5' }, env: {} }).deviceLoginFailuresPerMinute).toBe(5);
    expect(loadServerConfig({ flags: {}, env: { KLUIS_DEVICE_LOGIN_FAILURES_PER_MINUTE: '7' } }).deviceLoginFailuresPerMinute).toBe(7);
    expect(() => loadServerConfig({ flags: { 'device-login-failures-per-minute': '0' }, env: {} })).toThrow(ConfigError);
    const two = await startTestServer({ deviceLoginFailuresPerMinute: 2 });
    try {
      const erin = await registerAccount(two);
      const wrong = () => call(two.url, 'GET', '/v1/accounts/me', { auth: deviceAuthorization(erin.accountId, erin.deviceId, newPassword()) });
      for (let i = 0; i < 2; i++) expect((await wrong()).status).toBe(401);
      const limited = await wrong();
      expect(limited.status).toBe(429);
      expect(limited.body.retryAfterSeconds).toBe(30);
    } finally {
      await two.close();
    }
  });
});

describe('failed device logins take the same time, known device or not', () => {
  let dave: TestDevice;
  beforeAll(async () => {
    // The production argon2 cost (4 MiB, 2 passes), where the difference was 1.97 vs 0.83 ms;
    // no rate limits, to send a few hundred.
    ts = await startTestServer({ argon2MemoryKib: 4096, argon2Iterations: 2, rateLimits: false });
    dave = await registerAccount(ts);
  });
  afterAll(() => ts.close());

  it('medians of interleaved wrong-password, unknown-device and unknown-account logins agree', async () => {
    const check = (r: { status: number }) => expect(r.status).toBe(401);
    const { ok, medians } = await sameTiming(
      'failed login',
      {
        knownWrong: async () => check(await whoami(deviceAuthorization(dave.accountId, dave.deviceId, newPassword()))),
        unknownDevice: async () => check(await whoami(deviceAuthorization(dave.accountId, 4, newPassword()))),
        unknownAccount: async () => check(await whoami(deviceAuthorization(randomUUID(), 1, newPassword()))),
      },
      [
        ['unknownDevice', 'knownWrong'],
        ['unknownAccount', 'knownWrong'],
      ],
    );
    expect(ok, JSON.stringify(medians)).toBe(true);
  }, 240_000);
});
