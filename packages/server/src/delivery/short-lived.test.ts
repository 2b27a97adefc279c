/**
 * Short-lived envelopes (call signals): stored like any other, but their expires_at is
 * SHORT_LIVED_TTL_MS from the commit rounded UP to the hour step every stored time uses,
 * so the expiry job removes them at that boundary while a normal envelope sent at the same
 * moment stays. Every send path (identified, sealed, multi, sealed multi), over HTTP and
 * over the sockets.
 */
import { AccessKeys } from '../test-support/access-keys.js';
import { SHORT_LIVED_TTL_MS, type JsonClientFrame } from '@kluis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coarsen, coarsenUp, ENVELOPE_TIME_GRANULARITY_MS } from '../store/coarse-time.js';
import { registerAccount, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { sealedMultiMessage } from '../test-support/sessions.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const HOUR = ENVELOPE_TIME_GRANULARITY_MS;
const TTL = 30 * 24 * HOUR;

let now = Date.now();
let ts: TestServer;
let alice: TestDevice;
let peek: ReturnType<typeof openSqliteForTest>;
const keys = new AccessKeys(() => ts);

beforeAll(async () => {
  ts = await startTestServer({ rateLimits: false, envelopeTtlMs: TTL }, { clock: () => now });
  alice = await registerAccount(ts);
  peek = openSqliteForTest(ts.dataDir);
});
afterAll(async () => {
  peek.close();
  await ts.close();
});

/** A fresh recipient with an access key (sealed sends), so each case sees only its own rows. */
const recipient = async (): Promise<TestDevice> => keys.give(await registerAccount(ts));
const xor = (...ds: TestDevice[]) => keys.xor(...ds);

/** expires_at of every row queued for these devices, earliest first. */
const expiries = (...ds: TestDevice[]) =>
  peek.all(`select expires_at from envelopes where account_id in (${ds.map((d) => `'${d.accountId}'`).join(',')}) order by expires_at`).map((r) => Number(r.expires_at));

const sealedHeader = (key: Buffer) => ({ 'unidentified-access-key': key.toString('base64') });

let frameId = 1;
/** One send frame and its response. */
async function ask(s: TestSocket, frame: Record<string, unknown> & { type: JsonClientFrame['type'] }): Promise<number> {
  const id = frameId++;
  s.send({ ...frame, id } as JsonClientFrame);
  const r = await s.next((f) => f.type === 'response' && f.id === id);
  return r.status;
}

/**
 * Puts the clock 59 min past an hour (so now + 2 min falls in the next hour: the expiry
 * is the hour after that), sends one short-lived and one normal envelope per recipient
 * device, and runs the expiry job just before and at the short-lived boundary.
 */
async function expect2(to: TestDevice[], send: (shortLived: boolean) => Promise<number>): Promise<void> {
  now = coarsenUp(now, HOUR) + 59 * 60_000 + 30_000;
  const sentAt = now;
  const shortExpiry = coarsenUp(sentAt + SHORT_LIVED_TTL_MS, HOUR);
  const normalExpiry = coarsen(sentAt + TTL, HOUR);
  expect(shortExpiry).toBe(coarsen(sentAt, HOUR) + 2 * HOUR);
  expect(await send(true)).toBe(200);
  expect(await send(false)).toBe(200);
  const stored = expiries(...to);
  expect(stored).toEqual([...to.map(() => shortExpiry), ...to.map(() => normalExpiry)]);
  // As coarse as every stored time, and never before SHORT_LIVED_TTL_MS.
  for (const e of stored) expect(e % HOUR).toBe(0);
  expect(shortExpiry - sentAt).toBeGreaterThanOrEqual(SHORT_LIVED_TTL_MS);

  now = shortExpiry - 1;
  expect((await ts.server.runExpiry()).envelopes).toBe(0);
  now = shortExpiry;
  expect((await ts.server.runExpiry()).envelopes).toBe(to.length);
  expect(expiries(...to)).toEqual(to.map(() => normalExpiry));
}

describe('short-lived envelopes', () => {
  it('identified send over HTTP', async () => {
    const bob = await recipient();
    await expect2([bob], async (shortLived) => {
      const r = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: { ...sendBody([bob]), ...(shortLived ? { shortLived } : {}) } });
      return r.status;
    });
  });

  it('identified send over the socket', async () => {
    const bob = await recipient();
    const s = await TestSocket.connect(ts.url, alice.auth);
    try {
      await expect2([bob], async (shortLived) => (await s.request(bob.accountId, { ...sendBody([bob]), shortLived })).status);
    } finally {
      await s.close();
    }
  });

  it('sealed send over HTTP and over the sealed socket', async () => {
    const bob = await recipient();
    await expect2([bob], async (shortLived) => {
      const r = await call(ts.url, 'PUT', `/v1/sealed/${bob.accountId}`, { body: { ...sendBody([bob], 'sealed', 6), shortLived }, headers: sealedHeader(xor(bob)) });
      return r.status;
    });
    const carol = await recipient();
    const s = await TestSocket.connect(ts.url, undefined, '/v1/sealed-socket');
    try {
      await expect2([carol], (shortLived) =>
        ask(s, { type: 'sealed-send', destination: carol.accountId, accessKey: xor(carol).toString('base64'), body: { messages: sendBody([carol], 'sealed', 6).messages, shortLived } }),
      );
    } finally {
      await s.close();
    }
  });

  it('multi send over HTTP and over the socket', async () => {
    const body = (to: TestDevice[], shortLived: boolean) => ({
      timestamp: now,
      shortLived,
      shared: { type: 7, content: Buffer.from('sender-key message').toString('base64') },
      recipients: to.map((d) => ({ accountId: d.accountId, devices: [{ deviceId: d.deviceId, registrationId: d.registrationId }] })),
    });
    const http = [await recipient(), await recipient()];
    await expect2(http, async (shortLived) => (await call(ts.url, 'PUT', '/v1/messages', { auth: alice.auth, body: body(http, shortLived) })).status);
    const socket = [await recipient(), await recipient()];
    const s = await TestSocket.connect(ts.url, alice.auth);
    try {
      await expect2(socket, (shortLived) => ask(s, { type: 'send-multi', body: body(socket, shortLived) }));
    } finally {
      await s.close();
    }
  });

  it('sealed multi send over HTTP and over the sealed socket', async () => {
    const http = [await recipient(), await recipient()];
    await expect2(http, async (shortLived) => {
      const message = await sealedMultiMessage(ts.url, alice, http);
      return (await call(ts.url, 'PUT', '/v1/sealed', { body: { message, shortLived }, headers: sealedHeader(xor(...http)) })).status;
    });
    const socket = [await recipient(), await recipient()];
    const s = await TestSocket.connect(ts.url, undefined, '/v1/sealed-socket');
    try {
      await expect2(socket, async (shortLived) => {
        const message = await sealedMultiMessage(ts.url, alice, socket);
        return ask(s, { type: 'sealed-multi-send', accessKey: xor(...socket).toString('base64'), body: { message, shortLived } });
      });
    } finally {
      await s.close();
    }
  });

  it('online and short-lived is just online: nothing stored for a device that is away', async () => {
    const bob = await recipient();
    const r = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: { ...sendBody([bob]), online: true, shortLived: true } });
    expect(r.status).toBe(200);
    expect(expiries(bob)).toEqual([]);
  });

  it('takes shortLived only as a boolean', async () => {
    const bob = await recipient();
    const r = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: { ...sendBody([bob]), shortLived: 'yes' } });
    expect(r).toMatchObject({ status: 400, body: { message: 'body/shortLived must be boolean' } });
    const m = await call(ts.url, 'PUT', '/v1/sealed', { body: { message: 'AA==', shortLived: 1 }, headers: sealedHeader(xor(bob)) });
    expect(m).toMatchObject({ status: 400, body: { message: 'body/shortLived must be boolean' } });
    const multi = await call(ts.url, 'PUT', '/v1/messages', { auth: alice.auth, body: { shortLived: null, recipients: [{ accountId: bob.accountId, devices: [] }] } });
    expect(multi).toMatchObject({ status: 400, body: { message: 'body/shortLived must be boolean' } });
  });
});
