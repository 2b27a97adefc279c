/**
 * What a sealed envelope keeps at rest, and what it lets a server holder join: no client
 * timestamp (it equalled the sender's sync copy's), coarse server times, and fan-outs
 * whose account set is the whole group — the sender's own account included, its sending
 * device left out without a 409 (the server cannot name it).
 */
import { AccessKeys } from '../test-support/access-keys.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVELOPE_TIME_GRANULARITY_MS } from '../store/coarse-time.js';
import { linkDevice, registerAccount, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { sealedMultiMessage } from '../test-support/sessions.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
let alice: TestDevice;
let alice2: TestDevice;
let bob: TestDevice;
let bob2: TestDevice;
/** One device only. */
let carol: TestDevice;
const keys = new AccessKeys(() => ts);
let peek: ReturnType<typeof openSqliteForTest>;

beforeAll(async () => {
  ts = await startTestServer({ rateLimits: false });
  alice = await registerAccount(ts);
  alice2 = await linkDevice(ts, alice);
  bob = await registerAccount(ts);
  bob2 = await linkDevice(ts, bob);
  carol = await registerAccount(ts);
  for (const d of [alice, bob, carol]) await keys.give(d);
  peek = openSqliteForTest(ts.dataDir);
});
afterAll(async () => {
  peek.close();
  await ts.close();
});

const xor = (...accounts: TestDevice[]) => keys.xor(...accounts);

async function sealedPut(path: string, key: Buffer, body: unknown) {
  return call(ts.url, 'PUT', path, { body, headers: { 'unidentified-access-key': key.toString('base64') } });
}

type Row = { account_id: string; device_id: number; type: number; source_account: string | null; timestamp: number; server_timestamp: number; expires_at: number };
const rows = (where: string): Row[] => peek.all(`select account_id, device_id, type, source_account, timestamp, server_timestamp, expires_at from envelopes where ${where}`) as Row[];
const queuedFor = (...ds: TestDevice[]) => rows(`account_id in (${ds.map((d) => `'${d.accountId}'`).join(',')})`);

/** Empties every queue (each test looks at what its own sends left). */
async function drain(...ds: TestDevice[]) {
  for (const d of ds) {
    const s = await TestSocket.connect(ts.url, d.auth);
    const backlog = await s.backlog();
    if (backlog.length > 0) s.send({ type: 'ack', guids: backlog.map((e) => e.guid) });
    await s.close();
  }
  // Acks are deleted in the next group commit.
  for (let i = 0; i < 100 && queuedFor(...ds).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(queuedFor(...ds)).toEqual([]);
}

const multiMessage = (from: TestDevice, to: TestDevice[], excluded: TestDevice[] = []) => sealedMultiMessage(ts.url, from, to, excluded);

describe('sealed envelopes at rest', () => {
  it('keep no client timestamp, and only coarse server times; identified ones keep theirs', async () => {
    await drain(carol);
    const sealed = await sealedPut(`/v1/sealed/${carol.accountId}`, xor(carol), { ...sendBody([carol], 'sealed', 6), timestamp: 1_700_000_000_123 });
    expect(sealed.status).toBe(200);
    const identified = await call(ts.url, 'PUT', `/v1/messages/${carol.accountId}`, { auth: alice.auth, body: { ...sendBody([carol], 'plain'), timestamp: 1_700_000_000_456 } });
    expect(identified.status).toBe(200);
    const [s, p] = queuedFor(carol);
    expect(s).toMatchObject({ type: 6, source_account: null, timestamp: 0 });
    expect(p).toMatchObject({ type: 2, source_account: alice.accountId, timestamp: 1_700_000_000_456 });
    for (const r of [s!, p!]) {
      expect(Number(r.server_timestamp) % ENVELOPE_TIME_GRANULARITY_MS).toBe(0);
      expect(Number(r.expires_at) % ENVELOPE_TIME_GRANULARITY_MS).toBe(0);
    }
    // Pushed as stored: no timestamp on the sealed one.
    const socket = await TestSocket.connect(ts.url, carol.auth);
    const [pushed, plain] = await socket.backlog();
    expect(pushed).not.toHaveProperty('timestamp');
    expect(pushed!.serverTimestamp % ENVELOPE_TIME_GRANULARITY_MS).toBe(0);
    expect(plain).toMatchObject({ timestamp: 1_700_000_000_456 });
    socket.send({ type: 'ack', guids: [pushed!.guid, plain!.guid] });
    await socket.close();
    // Sealed sends need no timestamp at all.
    const { timestamp: _, ...untimed } = sendBody([carol], 'untimed', 6);
    expect((await sealedPut(`/v1/sealed/${carol.accountId}`, xor(carol), untimed)).status).toBe(200);
  });

  it('a sealed sync copy to the own account leaves out the sending device: 200, that device named back, nothing stored for it', async () => {
    await drain(alice, alice2);
    const r = await sealedPut(`/v1/sealed/${alice.accountId}`, xor(alice), sendBody([alice2], 'sync', 6));
    expect(r).toMatchObject({ status: 200, body: { skippedDevices: [alice.deviceId] } });
    expect(queuedFor(alice).map((x) => [x.device_id, x.type, x.source_account, Number(x.timestamp)])).toEqual([[alice2.deviceId, 6, null, 0]]);
    // The same rule for any account (the server cannot tell a sync copy): the one device
    // left out is named back, so a sender that did not know it can send to it next.
    await drain(bob, bob2);
    const toBob = await sealedPut(`/v1/sealed/${bob.accountId}`, xor(bob), sendBody([bob], 'one of two', 6));
    expect(toBob).toMatchObject({ status: 200, body: { skippedDevices: [bob2.deviceId] } });
    // A resend to that device alone is a subset, as any resend.
    const follow = await sealedPut(`/v1/sealed/${bob.accountId}`, xor(bob), { ...sendBody([bob2], 'one of two', 6), resend: true });
    expect(follow.status).toBe(200);
    expect(follow.body.skippedDevices).toBeUndefined();
    expect(queuedFor(bob).map((x) => x.device_id).sort()).toEqual([bob.deviceId, bob2.deviceId].sort());
    // Identified sends are unchanged: a device left out is a 409.
    const identified = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: carol.auth, body: sendBody([bob]) });
    expect(identified).toMatchObject({ status: 409, body: { missingDevices: [bob2.deviceId] } });
  });

  it('a sealed group fan-out names every member account, the sender’s own included, and stores nothing for the sending device', async () => {
    await drain(alice, alice2, bob, bob2, carol);
    // Alice (two devices) to the group {alice, bob, carol}: her other device is a recipient.
    const fromAlice = await multiMessage(alice, [alice2, bob, bob2, carol]);
    const r = await sealedPut('/v1/sealed', xor(alice, bob, carol), { message: fromAlice });
    expect(r).toMatchObject({ status: 200, body: { skipped: [{ accountId: alice.accountId, deviceId: alice.deviceId }] } });
    const stored = queuedFor(alice, bob, carol);
    expect(new Set(stored.map((x) => x.account_id))).toEqual(new Set([alice.accountId, bob.accountId, carol.accountId]));
    expect(stored.some((x) => x.account_id === alice.accountId && x.device_id === alice.deviceId)).toBe(false);
    expect(stored.every((x) => x.type === 6 && x.source_account === null && Number(x.timestamp) === 0)).toBe(true);

    // Carol (one device): her account goes in libsignal's excludedRecipients, no device, no key.
    await drain(alice, alice2, bob, bob2, carol);
    const fromCarol = await multiMessage(carol, [alice, alice2, bob, bob2], [carol]);
    const c = await sealedPut('/v1/sealed', xor(alice, bob), { message: fromCarol });
    expect(c.status).toBe(200);
    expect(c.body.skipped).toBeUndefined();
    expect(queuedFor(carol)).toEqual([]);
    expect(queuedFor(alice, bob)).toHaveLength(4);
  });

  it('looks excluded recipients up not at all: known with one or two devices, or unknown, the answer is byte for byte the same and names none of them', async () => {
    // Before: an excluded account with one device came back in `skipped`, one with two as
    // a 409 naming its devices, an unknown one was skipped: anyone could probe accounts.
    await drain(alice, alice2, bob, bob2, carol);
    const answers = [];
    for (const excluded of [[carol], [bob], [{ ...carol, accountId: randomUUID() }]]) {
      await drain(alice, alice2);
      const message = await multiMessage(alice, [alice2], excluded);
      const r = await sealedPut('/v1/sealed', xor(alice), { message });
      answers.push({ status: r.status, body: JSON.stringify(r.body) });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    for (const who of [bob, carol]) expect(answers[0]!.body).not.toContain(who.accountId);
    expect(queuedFor(bob, carol)).toEqual([]);
  });

  it('leaves out one device in all, not more: two left out is the usual 409 for both accounts', async () => {
    const message = await multiMessage(alice, [alice2, bob, carol]);
    const r = await sealedPut('/v1/sealed', xor(alice, bob, carol), { message });
    expect(r.status).toBe(409);
    expect(r.body.mismatched).toEqual(
      expect.arrayContaining([
        { accountId: alice.accountId, missingDevices: [alice.deviceId], extraDevices: [] },
        { accountId: bob.accountId, missingDevices: [bob2.deviceId], extraDevices: [] },
      ]),
    );
  });
});

describe('identified group fan-outs', () => {
  it('list the sender’s own account too: with no other device it is listed with none, and nothing is stored for it', async () => {
    await drain(alice, alice2, carol);
    const body = {
      timestamp: Date.now(),
      shared: { type: 7, content: Buffer.from('sender key message').toString('base64') },
      recipients: [
        { accountId: carol.accountId, devices: [] },
        { accountId: alice.accountId, devices: [alice, alice2].map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId })) },
      ],
    };
    const r = await call(ts.url, 'PUT', '/v1/messages', { auth: carol.auth, body });
    expect(r.status).toBe(200);
    expect(queuedFor(carol)).toEqual([]);
    expect(queuedFor(alice)).toHaveLength(2);
  });
});
