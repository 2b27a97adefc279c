import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIn, admin, adminOk, brandWithPlan, mintCodes } from '../test-support/admin.js';
import { sendBody } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const DAY = 86_400_000;
/** paid-until is stored rounded up to the last millisecond of its UTC day. */
const endOfDay = (ms: number) => Math.floor(ms / DAY) * DAY + DAY - 1;
let now = Date.UTC(2026, 0, 10, 12);
let ts: TestServer;
let brand: { slug: string; planId: string };

beforeAll(async () => {
  ts = await startTestServer({}, { clock: () => now });
  // 30-day plan, 7 days of grace, 30 of retention (the defaults).
  brand = await brandWithPlan(ts, 'acme');
});
afterAll(() => ts.close());

async function refused(auth: string) {
  return TestSocket.connect(ts.url, auth).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (err: { status?: number; body?: { code: string; message: string } }) => err,
  );
}

describe('subscriptions with an injectable clock', () => {
  it('active → grace (receives, cannot send) → suspended (socket refused) → renewed (sends again)', async () => {
    const start = now;
    const alice = await accountIn(ts, brand);
    const bob = await accountIn(ts, brand);
    const sub = await call(ts.url, 'GET', '/v1/subscription', { auth: alice.auth });
    expect(sub.body).toMatchObject({ state: 'active', paidUntil: endOfDay(start + 30 * DAY), graceEndsAt: endOfDay(start + 37 * DAY), brand: { slug: 'acme' } });

    // Day 31: grace. Alice cannot send but still receives.
    now = start + 31 * DAY;
    const send = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], 'in grace') });
    expect(send.status).toBe(402);
    expect(send.body.code).toBe('SUBSCRIPTION_EXPIRED');
    expect(send.body.message).toContain('2026-02-09');
    expect(send.body.message).toMatch(/kluis renew/);
    // Sends over the socket get the same answer.
    const aliceSocket = await TestSocket.connect(ts.url, alice.auth);
    await aliceSocket.backlog();
    expect((await aliceSocket.request(bob.accountId, sendBody([bob], 'socket in grace'))).status).toBe(402);
    // Bob (also lapsed at the same time) renews, then sends to alice, who receives in grace.
    const [renewal] = await mintCodes(ts, brand, 'renewal');
    expect((await call(ts.url, 'POST', '/v1/subscription/renew', { auth: bob.auth, body: { code: renewal } })).status).toBe(200);
    expect((await call(ts.url, 'PUT', `/v1/messages/${alice.accountId}`, { auth: bob.auth, body: sendBody([alice], 'to grace') })).status).toBe(200);
    const got = await aliceSocket.next((f) => f.type === 'envelope');
    expect(Buffer.from((got as { envelope: { content: string } }).envelope.content, 'base64').toString()).toBe('to grace');
    await aliceSocket.close();

    // Day 38: past grace, suspended: the socket is refused with a reason.
    now = start + 38 * DAY;
    const err = await refused(alice.auth);
    expect(err?.status).toBe(403);
    expect(err?.body?.code).toBe('ACCOUNT_SUSPENDED');
    expect(err?.body?.message).toMatch(/grace period ended on 2026-02-16/);
    const state = await adminOk(ts, ts.operatorToken, 'GET', `/admin/accounts/${alice.accountId}`);
    expect(state.state).toBe('suspended');

    // Renewal from "now" (later than paid-until): sending and the socket work again at once.
    const [code] = await mintCodes(ts, brand, 'renewal');
    const renewed = await call(ts.url, 'POST', '/v1/subscription/renew', { auth: alice.auth, body: { code } });
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ state: 'active', paidUntil: endOfDay(now + 30 * DAY) });
    expect(await refused(alice.auth)).toBeUndefined();
    expect((await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], 'back') })).status).toBe(200);
  });

  it('renewal extends from paid-until when that is later than now', async () => {
    const carol = await accountIn(ts, brand);
    const before = (await call(ts.url, 'GET', '/v1/subscription', { auth: carol.auth })).body.paidUntil;
    now += 10 * DAY;
    const [code] = await mintCodes(ts, brand, 'renewal');
    const r = await call(ts.url, 'POST', '/v1/subscription/renew', { auth: carol.auth, body: { code } });
    expect(r.body.paidUntil).toBe(before + 30 * DAY);
  });

  it('an admin suspension refuses the socket and closes open ones; unsuspend restores', async () => {
    const dave = await accountIn(ts, brand);
    const socket = await TestSocket.connect(ts.url, dave.auth);
    await socket.backlog();
    await adminOk(ts, ts.operatorToken, 'POST', `/admin/accounts/${dave.accountId}/suspend`);
    expect((await socket.closed).code).toBe(4003);
    const err = await refused(dave.auth);
    expect(err?.body?.message).toMatch(/suspended by the service operator/);
    await adminOk(ts, ts.operatorToken, 'POST', `/admin/accounts/${dave.accountId}/unsuspend`);
    expect(await refused(dave.auth)).toBeUndefined();
  });

  it('retention deletes keys and queues of long-suspended accounts, and only theirs', async () => {
    const erin = await accountIn(ts, brand);
    const frank = await accountIn(ts, brand);
    // frank queues a message for erin, then erin lapses: 30 paid + 7 grace + 30 retention.
    expect((await call(ts.url, 'PUT', `/v1/messages/${erin.accountId}`, { auth: frank.auth, body: sendBody([erin], 'queued') })).status).toBe(200);
    for (const d of [erin, frank]) {
      const profile = { version: 'c'.repeat(64), ciphertext: Buffer.alloc(1024, 1).toString('base64') };
      expect((await call(ts.url, 'PUT', '/v1/profile', { auth: d.auth, body: profile })).status).toBe(200);
    }
    const [code] = await mintCodes(ts, brand, 'renewal', 3);
    now += 40 * DAY;
    // frank keeps paying; erin does not.
    expect((await call(ts.url, 'POST', '/v1/subscription/renew', { auth: frank.auth, body: { code } })).status).toBe(200);
    now += 20 * DAY; // 60 days: erin suspended but within retention
    await ts.server.runExpiry();
    expect((await adminOk(ts, ts.operatorToken, 'GET', `/admin/accounts/${erin.accountId}`)).state).toBe('suspended');
    const [renew2] = await mintCodes(ts, brand, 'renewal', 1);
    expect((await call(ts.url, 'POST', '/v1/subscription/renew', { auth: frank.auth, body: { code: renew2 } })).status).toBe(200);
    now += 10 * DAY; // 70 days > 67
    const result = await ts.server.runExpiry();
    expect(result.purgedAccounts).toBeGreaterThanOrEqual(1);
    const { openSqliteForTest } = await import('../test-support/peek.js');
    const peek = openSqliteForTest(ts.dataDir);
    try {
      expect(peek.count('envelopes', erin.accountId)).toBe(0);
      expect(peek.count('devices', erin.accountId)).toBe(0);
      expect(peek.count('prekeys', erin.accountId)).toBe(0);
      expect(peek.count('kyber_prekeys', erin.accountId)).toBe(0);
      expect(peek.count('profiles', erin.accountId)).toBe(0);
      expect(peek.count('devices', frank.accountId)).toBe(1);
      expect(peek.count('profiles', frank.accountId)).toBe(1);
    } finally {
      peek.close();
    }
    const view = await adminOk(ts, ts.operatorToken, 'GET', `/admin/accounts/${erin.accountId}`);
    expect(view).toMatchObject({ state: 'purged', deviceCount: 0 });
    expect((await admin(ts, ts.operatorToken, 'GET', `/admin/accounts/${frank.accountId}`)).body.state).toBe('active');
    // A purged account's credentials are gone.
    expect((await call(ts.url, 'GET', '/v1/accounts/me', { auth: erin.auth })).status).toBe(401);
  });
});
