/**
 * A full recipient queue does not block a whole group: a multi-recipient send (identified,
 * over HTTP or the socket, and sealed) stores for every device with room, leaves out the
 * full ones and names them in `queueFull`; 507 only when every device is full. 1:1 sends
 * are still refused whole.
 */
import { AccessKeys } from '../test-support/access-keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, linkDevice, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { sealedMultiMessage } from '../test-support/sessions.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const MAX = 3;
let ts: TestServer;
let peek: ReturnType<typeof openSqliteForTest>;
const keys = new AccessKeys(() => ts);

beforeAll(async () => {
  ts = await startTestServer({ maxQueueEnvelopes: MAX, rateLimits: false });
  peek = openSqliteForTest(ts.dataDir);
});
afterAll(async () => {
  peek.close();
  await ts.close();
});

type Dev = { accountId: string; deviceId: number; registrationId: number };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const contents = (d: TestDevice) =>
  (peek.all(`select content from envelopes where account_id = '${d.accountId}' and device_id = ${d.deviceId} order by id`) as Array<{ content: Buffer }>).map((r) =>
    Buffer.from(r.content).toString(),
  );
const shared = (groups: Dev[][], content: string) => ({
  timestamp: Date.now(),
  shared: { type: 7, content: b64(content) },
  recipients: groups.map((ds) => ({ accountId: ds[0]!.accountId, devices: ds.map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId })) })),
});
const multi = (from: TestDevice, body: unknown) => call(ts.url, 'PUT', '/v1/messages', { auth: from.auth, body });

const withKey = (d: TestDevice) => keys.give(d);
const xor = (...ds: TestDevice[]) => keys.xor(...ds);

/** Fills one device's queue to the cap with 1:1 resends (a resend may name one device of several). */
async function fill(from: TestDevice, d: TestDevice): Promise<void> {
  for (let i = 0; i < MAX; i++) {
    const r = await call(ts.url, 'PUT', `/v1/messages/${d.accountId}`, { auth: from.auth, body: { ...sendBody([d], `fill${i}`), resend: true } });
    expect(r.status).toBe(200);
  }
}

describe('a full device queue in a multi-recipient send (cap of 3 for the test; default 50,000)', () => {
  it('an identified group send stores for every other device, answers 200 naming the full one, and leaves its queue as it was', async () => {
    const alice = await registerAccount(ts);
    const bob = await registerAccount(ts);
    const bob2 = await linkDevice(ts, bob);
    const carol = await registerAccount(ts);
    await fill(alice, bob2);
    const before = contents(bob2);
    expect(before).toEqual(['fill0', 'fill1', 'fill2']);

    // Before: 507 for the whole group because of bob2.
    const r = await multi(alice, shared([[bob, bob2], [carol]], 'group message'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ serverTimestamp: expect.any(Number), queueFull: [{ accountId: bob.accountId, deviceIds: [bob2.deviceId] }] });
    expect(contents(bob)).toEqual(['group message']);
    expect(contents(carol)).toEqual(['group message']);
    expect(contents(bob2)).toEqual(before);

    // Per-device ciphertexts and the socket's 'send-multi' frame do the same.
    const socket = await TestSocket.connect(ts.url, alice.auth);
    socket.send({
      type: 'send-multi',
      id: 1,
      body: {
        timestamp: Date.now(),
        recipients: [bob, carol].map((a) => ({
          accountId: a.accountId,
          devices: (a === bob ? [bob, bob2] : [carol]).map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId, type: 2, content: b64(`own/${d.deviceId}`) })),
        })),
      },
    });
    const frame = await socket.next((f) => f.type === 'response' && f.id === 1);
    await socket.close();
    expect(frame).toMatchObject({ status: 200, body: { queueFull: [{ accountId: bob.accountId, deviceIds: [bob2.deviceId] }] } });
    expect(contents(bob)).toEqual(['group message', `own/${bob.deviceId}`]);
    expect(contents(carol)).toEqual(['group message', `own/${carol.deviceId}`]);
    expect(contents(bob2)).toEqual(before);

    // The full device still counts in the device-list check: leaving it out is the usual 409.
    const missing = await multi(alice, shared([[bob], [carol]], 'without bob2'));
    expect(missing).toMatchObject({ status: 409, body: { mismatched: [{ accountId: bob.accountId, missingDevices: [bob2.deviceId] }] } });

    // Only what was stored was counted: carol's queue (2) takes one more, then is full.
    expect((await call(ts.url, 'PUT', `/v1/messages/${carol.accountId}`, { auth: alice.auth, body: sendBody([carol], 'third') })).status).toBe(200);
    expect((await call(ts.url, 'PUT', `/v1/messages/${carol.accountId}`, { auth: alice.auth, body: sendBody([carol], 'fourth') })).status).toBe(507);
  });

  it('a 1:1 send to a full device, and a multi send whose every device is full, are still refused whole with 507', async () => {
    const alice = await registerAccount(ts);
    const dave = await registerAccount(ts);
    await fill(alice, dave);
    const single = await call(ts.url, 'PUT', `/v1/messages/${dave.accountId}`, { auth: alice.auth, body: sendBody([dave], 'one') });
    expect(single).toMatchObject({ status: 507, body: { code: 'QUEUE_FULL', full: [{ accountId: dave.accountId, deviceIds: [dave.deviceId] }] } });
    const all = await multi(alice, shared([[dave]], 'to a full group'));
    expect(all).toMatchObject({ status: 507, body: { code: 'QUEUE_FULL', full: [{ accountId: dave.accountId, deviceIds: [dave.deviceId] }] } });
    expect(contents(dave)).toEqual(['fill0', 'fill1', 'fill2']);
  });

  it('a sealed multi-recipient send stores for every other device and names the full one', async () => {
    const alice = await withKey(await registerAccount(ts));
    const bob = await withKey(await registerAccount(ts));
    const bob2 = await linkDevice(ts, bob);
    const carol = await withKey(await registerAccount(ts));
    await fill(carol, bob2);
    const before = contents(bob2);
    // Alice has no other device: her account is named with none (libsignal's excludedRecipients).
    const message = await sealedMultiMessage(ts.url, alice, [bob, bob2, carol], [alice]);
    const r = await call(ts.url, 'PUT', '/v1/sealed', { body: { message }, headers: { 'unidentified-access-key': xor(bob, carol).toString('base64') } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ queueFull: [{ accountId: bob.accountId, deviceIds: [bob2.deviceId] }] });
    expect(contents(bob)).toHaveLength(1);
    expect(contents(carol)).toHaveLength(1);
    expect(contents(bob2)).toEqual(before);
    const sealed = peek.all(`select account_id, source_account from envelopes where type = 6 and account_id in ('${bob.accountId}', '${carol.accountId}')`);
    expect(sealed).toHaveLength(2);
    expect(sealed).toEqual(
      expect.arrayContaining([
        { account_id: bob.accountId, source_account: null },
        { account_id: carol.accountId, source_account: null },
      ]),
    );
  });
});
