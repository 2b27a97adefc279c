import { randomUUID } from 'node:crypto';
import { MAX_GROUP_MEMBERS, MAX_SOCKET_FRAME_BYTES, type JsonClientFrame } from '@kluis/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../delivery/socket-server.js';
import { adminOk } from '../test-support/admin.js';
import { linkDevice, registerAccount, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
let alice: TestDevice;
let alice2: TestDevice;
let bob: TestDevice;
let bob2: TestDevice;
let carol: TestDevice;
let peek: ReturnType<typeof openSqliteForTest>;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ts = await startTestServer();
  alice = await registerAccount(ts);
  alice2 = await linkDevice(ts, alice);
  bob = await registerAccount(ts);
  bob2 = await linkDevice(ts, bob);
  carol = await registerAccount(ts);
  peek = openSqliteForTest(ts.dataDir);
});
afterEach(async () => {
  for (const s of sockets.splice(0)) await s.close();
});
afterAll(async () => {
  peek.close();
  await ts.close();
});

type Dev = { deviceId: number; registrationId: number };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const sendMulti = (from: TestDevice, body: unknown) => call(ts.url, 'PUT', '/v1/messages', { auth: from.auth, body });
const count = () => (peek.all('select count(*) as n from envelopes')[0]!.n as number);
const countFor = (d: TestDevice) => peek.all(`select count(*) as n from envelopes where account_id = '${d.accountId}' and device_id = ${d.deviceId}`)[0]!.n as number;

/** Per-device ciphertexts: `text/<deviceId>` for each listed device, grouped by account. */
function perDevice(groups: Array<[string, Dev[]]>, extra: Record<string, unknown> = {}) {
  return {
    timestamp: Date.now(),
    ...extra,
    recipients: groups.map(([accountId, devices]) => ({
      accountId,
      devices: devices.map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId, type: 2, content: b64(`x/${d.deviceId}`) })),
    })),
  };
}

function shared(groups: Array<[string, Dev[]]>, content = 'sender-key message', extra: Record<string, unknown> = {}) {
  return {
    timestamp: Date.now(),
    ...extra,
    shared: { type: 7, content: b64(content) },
    recipients: groups.map(([accountId, devices]) => ({
      accountId,
      devices: devices.map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId })),
    })),
  };
}

const everyone = (): Array<[string, Dev[]]> => [
  [bob.accountId, [bob, bob2]],
  [carol.accountId, [carol]],
  [alice.accountId, [alice2]],
];

async function drainAll(): Promise<void> {
  // Acks every stored envelope, so each test starts from empty queues.
  for (const d of [alice, alice2, bob, bob2, carol]) {
    const s = await TestSocket.connect(ts.url, d.auth);
    const backlog = await s.backlog();
    if (backlog.length > 0) s.send({ type: 'ack', guids: backlog.map((e: { guid: string }) => e.guid) });
    await s.close();
  }
  for (let i = 0; i < 50 && count() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(count()).toBe(0);
}

describe('PUT /v1/messages (multi-recipient)', () => {
  it('stores exactly one envelope per listed device, per-device ciphertexts, sync copy included', async () => {
    await drainAll();
    const r = await sendMulti(alice, perDevice(everyone()));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ serverTimestamp: expect.any(Number) });
    expect(count()).toBe(4);
    for (const d of [bob, bob2, carol, alice2]) expect(countFor(d)).toBe(1);
    expect(countFor(alice)).toBe(0);

    const s = await TestSocket.connect(ts.url, bob2.auth);
    sockets.push(s);
    const [env] = await s.backlog();
    expect(env).toMatchObject({ type: 2, sourceAccount: alice.accountId, sourceDevice: 1, content: b64(`x/${bob2.deviceId}`), serverTimestamp: r.body.serverTimestamp });
  });

  it('fans one shared ciphertext out to every listed device, all rows with the same bytes and server timestamp', async () => {
    await drainAll();
    const r = await sendMulti(alice, shared(everyone()));
    expect(r.status).toBe(200);
    const rows = peek.all('select account_id, device_id, type, content, server_timestamp, guid from envelopes');
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((x) => (x.content as Buffer).toString()))).toEqual(new Set(['sender-key message']));
    expect(new Set(rows.map((x) => x.server_timestamp))).toEqual(new Set([r.body.serverTimestamp]));
    expect(new Set(rows.map((x) => x.guid)).size).toBe(4);
    expect(rows.every((x) => x.type === 7)).toBe(true);
  });

  it('answers 409 with every mismatched account and stores nothing', async () => {
    await drainAll();
    const r = await sendMulti(alice, perDevice([
      [bob.accountId, [bob]],
      [carol.accountId, [carol, { deviceId: 5, registrationId: 9 }]],
      [alice.accountId, []],
    ]));
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      code: 'MISMATCHED_DEVICES',
      message: expect.any(String),
      mismatched: [
        { accountId: bob.accountId, missingDevices: [bob2.deviceId], extraDevices: [] },
        { accountId: carol.accountId, missingDevices: [], extraDevices: [5] },
        { accountId: alice.accountId, missingDevices: [alice2.deviceId], extraDevices: [] },
      ],
    });
    expect(count()).toBe(0);
  });

  it('answers 410 with stale devices per account and stores nothing', async () => {
    const r = await sendMulti(alice, shared([
      [bob.accountId, [bob, { deviceId: bob2.deviceId, registrationId: (bob2.registrationId % 16000) + 1 }]],
      [carol.accountId, [carol]],
    ]));
    expect(r.status).toBe(410);
    expect(r.body).toEqual({ code: 'STALE_DEVICES', message: expect.any(String), stale: [{ accountId: bob.accountId, staleDevices: [bob2.deviceId] }] });
    expect(count()).toBe(0);
  });

  it('answers 404 with the unknown (deleted) accounts and stores nothing', async () => {
    const dave = await registerAccount(ts);
    await adminOk(ts, ts.operatorToken, 'DELETE', `/admin/accounts/${dave.accountId}`);
    const nobody = randomUUID();
    const r = await sendMulti(alice, perDevice([
      [bob.accountId, [bob, bob2]],
      [dave.accountId, [dave]],
      [nobody, [{ deviceId: 1, registrationId: 1 }]],
    ]));
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ code: 'NOT_FOUND', message: expect.any(String), unknownAccounts: [dave.accountId, nobody] });
    expect(count()).toBe(0);
  });

  it('refuses the sending device as a recipient, mixed shared / per-device bodies and other bad input with 4xx, storing nothing', async () => {
    const bad = async (body: unknown, status = 400) => {
      const r = await sendMulti(alice, body);
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(typeof r.body.code).toBe('string');
    };
    await bad(perDevice([[alice.accountId, [alice, alice2]]]));
    await bad(shared([[alice.accountId, [alice]]]));
    // shared and per-device content at once
    const mixed = shared([[bob.accountId, [bob, bob2]]]);
    (mixed.recipients[0]!.devices[0] as Record<string, unknown>).content = b64('mine');
    await bad(mixed);
    const typed = shared([[bob.accountId, [bob, bob2]]]);
    (typed.recipients[0]!.devices[1] as Record<string, unknown>).type = 2;
    await bad(typed);
    // neither: a device without content and no shared ciphertext
    const half = perDevice([[bob.accountId, [bob, bob2]]]);
    delete (half.recipients[0]!.devices[1] as Record<string, unknown>).content;
    await bad(half);
    await bad(perDevice([[bob.accountId, [bob, bob]]]));
    await bad(perDevice([[bob.accountId, [bob, bob2]], [bob.accountId, [bob, bob2]]]));
    await bad(shared([[bob.accountId, [bob, bob2]]], ''));
    await bad({ ...perDevice([[bob.accountId, [bob, bob2]]]), surprise: 1 });
    await bad({ timestamp: Date.now(), recipients: [] });
    await bad({ timestamp: Date.now(), shared: { type: 7, content: b64('x') }, recipients: Array.from({ length: MAX_GROUP_MEMBERS + 1 }, () => ({ accountId: randomUUID(), devices: [] })) });
    await bad(shared([[bob.accountId, [bob, bob2]]], 'x'.repeat(96 * 1024 + 1)), 413);
    await bad({ ...shared([[bob.accountId, [bob, bob2]]]), shared: { type: 99, content: b64('x') } });
    expect((await call(ts.url, 'PUT', '/v1/messages', { body: shared(everyone()) })).status).toBe(401);
    expect(count()).toBe(0);
  });

  it('an empty device list for the own account is fine when the sender is its only device', async () => {
    const r = await sendMulti(carol, perDevice([[carol.accountId, []], [bob.accountId, [bob, bob2]]]));
    expect(r.status).toBe(200);
    expect(countFor(bob)).toBe(1);
    expect(countFor(bob2)).toBe(1);
    expect(countFor(carol)).toBe(0);
    await drainAll();
  });

  it('works over the socket as a send-multi frame, with the same answers', async () => {
    await drainAll();
    const s = await TestSocket.connect(ts.url, alice.auth);
    sockets.push(s);
    await s.backlog();
    const ok = await requestMulti(s, shared(everyone()));
    expect(ok.status).toBe(200);
    expect(ok.body.serverTimestamp).toEqual(expect.any(Number));
    expect(count()).toBe(4);
    const mismatch = await requestMulti(s, shared([[bob.accountId, [bob]]]));
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.mismatched).toEqual([{ accountId: bob.accountId, missingDevices: [bob2.deviceId], extraDevices: [] }]);
    const self = await requestMulti(s, shared([[alice.accountId, [alice]]]));
    expect(self.status).toBe(400);
    const big = await requestMulti(s, shared([[bob.accountId, [bob, bob2]]], 'x'.repeat(96 * 1024 + 1)));
    expect(big.status).toBe(413);
    const invalid = await requestMulti(s, { timestamp: 1, recipients: [] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.message).toMatch(/send-multi/);
    expect(count()).toBe(4);
    await drainAll();
  });

  it('online: pushed to a connected device, never stored, dropped for an offline one; its ack is harmless', async () => {
    await drainAll();
    const atBob = await TestSocket.connect(ts.url, bob.auth);
    sockets.push(atBob);
    await atBob.backlog();
    const r = await sendMulti(alice, perDevice([[bob.accountId, [bob, bob2]], [carol.accountId, [carol]]], { online: true }));
    expect(r.status).toBe(200);
    expect(r.body.serverTimestamp).toEqual(expect.any(Number));
    const pushed = await atBob.next((f) => f.type === 'envelope');
    expect(pushed.envelope).toMatchObject({ type: 2, sourceAccount: alice.accountId, content: b64(`x/${bob.deviceId}`) });
    expect(count()).toBe(0);
    atBob.send({ type: 'ack', guids: [pushed.envelope.guid] });

    // Offline bob2 and carol come online later: nothing waits for them.
    for (const d of [bob2, carol]) {
      const late = await TestSocket.connect(ts.url, d.auth);
      sockets.push(late);
      expect(await late.backlog()).toEqual([]);
    }
    // The stored path still works for bob afterwards (the unknown-guid ack broke nothing).
    expect((await sendMulti(alice, shared([[bob.accountId, [bob, bob2]]]))).status).toBe(200);
    const stored = await atBob.next((f) => f.type === 'envelope');
    expect(stored.envelope.content).toBe(b64('sender-key message'));
    expect(atBob.frames.filter((f) => f.type === 'error')).toEqual([]);
  });

  it('online sends still reconcile (409), and the single-destination send takes online too', async () => {
    const r = await sendMulti(alice, shared([[bob.accountId, [bob]]], 'typing', { online: true }));
    expect(r.status).toBe(409);
    await drainAll();
    const atCarol = await TestSocket.connect(ts.url, carol.auth);
    sockets.push(atCarol);
    await atCarol.backlog();
    const single = await call(ts.url, 'PUT', `/v1/messages/${carol.accountId}`, {
      auth: alice.auth,
      body: { timestamp: Date.now(), online: true, messages: [{ deviceId: 1, registrationId: carol.registrationId, type: 2, content: b64('typing') }] },
    });
    expect(single.status).toBe(200);
    expect((await atCarol.next((f) => f.type === 'envelope')).envelope.content).toBe(b64('typing'));
    const offline = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, {
      auth: alice.auth,
      body: { timestamp: Date.now(), online: true, messages: [bob, bob2].map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId, type: 2, content: b64('typing') })) },
    });
    expect(offline.status).toBe(200);
    expect(count()).toBe(0);
  });

  it('keeps the sealed-sender rule: type 6 envelopes carry no sender', async () => {
    await drainAll();
    const body = { timestamp: Date.now(), shared: { type: 6, content: b64('sealed') }, recipients: [{ accountId: carol.accountId, devices: [{ deviceId: 1, registrationId: carol.registrationId }] }] };
    expect((await sendMulti(alice, body)).status).toBe(200);
    const s = await TestSocket.connect(ts.url, carol.auth);
    sockets.push(s);
    const [env] = await s.backlog();
    expect(env).toEqual({ guid: expect.any(String), type: 6, serverTimestamp: expect.any(Number), content: b64('sealed') });
  });

  it('the server socket frame limit is the one clients are told about', () => {
    expect(MAX_FRAME_BYTES).toBe(MAX_SOCKET_FRAME_BYTES);
  });
});

let frameId = 1000;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary bodies
async function requestMulti(s: TestSocket, body: unknown): Promise<{ status: number; body: any }> {
  const id = frameId++;
  s.send({ type: 'send-multi', id, body: body as Extract<JsonClientFrame, { type: 'send-multi' }>['body'] });
  const r = await s.next((f) => f.type === 'response' && f.id === id);
  return { status: r.status, body: r.body };
}
