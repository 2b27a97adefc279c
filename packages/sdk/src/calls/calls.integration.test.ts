/**
 * Call signalling against the real server: an offer rings every device of the callee once,
 * the answer reaches the caller and stops the callee's other devices, and each device logs
 * the call in its conversation. Stale and replayed offers never ring; blocked callers neither.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, type TestServer } from '../../../../test/harness/index.js';
import { connectedUser, linkDevice } from '../../../../test/harness/sdk-helpers.js';
import type { Client } from '../client.js';
import { until } from '../testing/helpers.js';
import type { CallSignalEvent } from './calls.js';

const h = new Harness();
let server: TestServer;
let n = 0;

beforeAll(async () => {
  server = await h.startServer();
});
afterAll(() => h.dispose());

const user = async (base: string, clock?: () => number) => {
  const name = `${base}${n++}`;
  return { c: await connectedUser(h, server, name, clock ? { clock } : {}), name };
};

function heard(c: Client): CallSignalEvent[] {
  const list: CallSignalEvent[] = [];
  c.on('call-signal', (e) => list.push(e));
  return list;
}

const outcome = (c: Client, callId: string) => c.calls.history().find((e) => e.id === callId)?.outcome;

describe('call signalling', () => {
  it('rings every device of the callee once; the answer reaches the caller and stops the other device; both log the call', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const bob2 = await h.openClient(`${bob.name}-2`);
    await linkDevice(bob.c, bob2, server.url);
    await bob2.connect();
    const [atAlice, atBob, atBob2] = [heard(alice.c), heard(bob.c), heard(bob2)];
    const callId = randomUUID();

    await alice.c.calls.signal(bob.name, { type: 'offer', callId, media: 'video', sdp: 'v=0 offer' });
    await until('both bob devices ring', () => atBob.some((e) => e.ring) && atBob2.some((e) => e.ring));
    expect(atBob.filter((e) => e.ring)).toHaveLength(1);
    expect(atBob[0]!.signal).toEqual({ type: 'offer', callId, media: 'video', sdp: 'v=0 offer' });
    expect(outcome(alice.c, callId)).toBe('ringing');
    expect(outcome(bob.c, callId)).toBe('ringing');

    const to = { accountId: atBob[0]!.from.accountId, deviceId: atBob[0]!.from.deviceId };
    await bob.c.calls.signal(alice.name, { type: 'answer', callId, sdp: 'v=0 answer' });
    await until('alice hears the answer', () => atAlice.some((e) => e.signal.type === 'answer'));
    await until('bob2 hears its sibling answered', () => atBob2.some((e) => e.signal.type === 'answer' && e.fromSelf));
    // ICE goes to the one device in the call.
    await alice.c.calls.signal(bob.name, { type: 'ice', callId, candidates: ['{"candidate":"x"}'], to: { accountId: bob.c.account!.accountId, deviceId: bob.c.account!.deviceId } });
    await until('bob hears ICE', () => atBob.some((e) => e.signal.type === 'ice'));
    expect(to.accountId).toBe(alice.c.account!.accountId);
    await alice.c.calls.signal(bob.name, { type: 'hangup', callId, reason: 'normal' });
    for (const c of [alice.c, bob.c, bob2]) await until('ended everywhere', () => outcome(c, callId) === 'ended');
    expect(atBob2.some((e) => e.signal.type === 'ice')).toBe(false);
    // Shown once, in the conversation named for alice (her username is checked like a message's).
    const msgs = await bob.c.messages.list({ conversation: alice.name });
    expect(msgs.filter((m) => m.kind === 'call').map((m) => m.id)).toEqual([callId]);
  });

  it('declined, busy and cancelled calls; a dismissed call is missed', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const atBob = heard(bob.c);
    const declined = randomUUID();
    const busy = randomUUID();
    const cancelled = randomUUID();
    const dismissed = randomUUID();
    for (const id of [declined, busy, cancelled, dismissed]) await alice.c.calls.signal(bob.name, { type: 'offer', callId: id, media: 'audio', sdp: 'v=0' });
    await until('four rings', () => atBob.filter((e) => e.ring).length === 4);
    await bob.c.calls.signal(alice.name, { type: 'hangup', callId: declined, reason: 'declined' });
    await bob.c.calls.signal(alice.name, { type: 'busy', callId: busy });
    await alice.c.calls.signal(bob.name, { type: 'hangup', callId: cancelled, reason: 'normal' });
    bob.c.calls.dismiss(dismissed);
    await until('alice logs', () => outcome(alice.c, declined) === 'declined' && outcome(alice.c, busy) === 'busy');
    await until('bob logs', () => outcome(bob.c, cancelled) === 'missed');
    expect(outcome(bob.c, declined)).toBe('declined');
    expect(outcome(bob.c, dismissed)).toBe('missed');
  });

  it('a stale offer never rings and is missed; a replayed one rings once; a blocked caller never rings', async () => {
    const late = { offset: 0 };
    const alice = await user('alice');
    const bob = await user('bob', () => Date.now() + late.offset);
    const atBob = heard(bob.c);
    late.offset = 61_000;
    const stale = randomUUID();
    await alice.c.calls.signal(bob.name, { type: 'offer', callId: stale, media: 'audio', sdp: 'v=0' });
    await until('logged as missed', () => outcome(bob.c, stale) === 'missed');
    expect(atBob.some((e) => e.ring)).toBe(false);
    late.offset = 0;

    const twice = randomUUID();
    await alice.c.calls.signal(bob.name, { type: 'offer', callId: twice, media: 'audio', sdp: 'v=0' });
    await alice.c.calls.signal(bob.name, { type: 'offer', callId: twice, media: 'audio', sdp: 'v=0' });
    const marker = randomUUID();
    await alice.c.calls.signal(bob.name, { type: 'offer', callId: marker, media: 'audio', sdp: 'v=0' });
    await until('marker rings', () => atBob.some((e) => e.signal.callId === marker));
    expect(atBob.filter((e) => e.ring && e.signal.callId === twice)).toHaveLength(1);

    await bob.c.contacts.block(alice.name);
    const blocked = randomUUID();
    await alice.c.calls.signal(bob.name, { type: 'offer', callId: blocked, media: 'audio', sdp: 'v=0' }).catch(() => {});
    const after = randomUUID();
    const carol = await user('carol');
    await carol.c.calls.signal(bob.name, { type: 'offer', callId: after, media: 'audio', sdp: 'v=0' });
    await until('carol rings', () => atBob.some((e) => e.signal.callId === after));
    expect(atBob.some((e) => e.signal.callId === blocked)).toBe(false);
    expect(outcome(bob.c, blocked)).toBeUndefined();
  });

  it('an offer waits on the server only briefly (expires within the hour), a hangup as long as a message', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    // Linked, never connected: what is sent to it stays in its queue.
    const away = await h.openClient(`${bob.name}-away`);
    await linkDevice(bob.c, away, server.url);
    const callId = randomUUID();
    const sentAt = Date.now();
    await alice.c.calls.signal(bob.name, { type: 'offer', callId, media: 'audio', sdp: 'v=0' });
    await alice.c.calls.signal(bob.name, { type: 'hangup', callId, reason: 'normal' });
    const db = new Database(join(server.dataDir, 'kluis.db'), { readonly: true });
    let rows: Array<{ expires_at: number }>;
    try {
      // Alice's (identified: she has no access key of bob's yet); bob's own link syncs are there too.
      rows = db
        .prepare('SELECT expires_at FROM envelopes WHERE account_id = ? AND device_id = ? AND source_account = ? ORDER BY id')
        .all(bob.c.account!.accountId, away.account!.deviceId, alice.c.account!.accountId) as never;
    } finally {
      db.close();
    }
    expect(rows).toHaveLength(2);
    const [offer, hangup] = rows.map((r) => Number(r.expires_at));
    // SHORT_LIVED_TTL_MS (2 min) from the commit, rounded up to the hour (a minute for the commit's delay).
    expect(offer! - sentAt).toBeGreaterThanOrEqual(2 * 60_000);
    expect(offer! - sentAt).toBeLessThan(3 * 60_000 + 3600_000);
    expect(hangup! - sentAt).toBeGreaterThan(24 * 3600_000);
  });

  it('refuses malformed signals before they leave', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await expect(alice.c.calls.signal(bob.name, { type: 'join', callId: randomUUID(), media: 'audio' })).rejects.toMatchObject({ code: 'BAD_CALL_SIGNAL' });
    await expect(alice.c.calls.signal(bob.name, { type: 'offer', callId: 'not-a-uuid', media: 'audio', sdp: 'v=0' })).rejects.toMatchObject({ code: 'BAD_CALL_SIGNAL' });
    await expect(alice.c.calls.signal(bob.name, { type: 'offer', callId: randomUUID(), media: 'audio', sdp: 'x'.repeat(40_000) })).rejects.toMatchObject({ code: 'BAD_CALL_SIGNAL' });
  });

  it('hands out no relay when none is configured, and coturn-style credentials when one is', async () => {
    const alice = await user('alice');
    expect(await alice.c.calls.relay()).toEqual({ urls: [] });
    const secret = 'a-shared-secret-of-some-length';
    const relayed = await h.startServer({ turnUrls: ['turn:127.0.0.1:3478?transport=udp'], turnSecret: secret });
    const carol = await connectedUser(h, relayed, `carol${n++}`);
    const r = await carol.calls.relay();
    expect(r.urls).toEqual(['turn:127.0.0.1:3478?transport=udp']);
    // use-auth-secret: the username is expiry:random (no account), the credential its HMAC-SHA1.
    expect(r.username).toMatch(/^\d{10}:[0-9a-f]{16}$/);
    expect(r.username).not.toContain(carol.account!.accountId);
    expect(r.credential).toBe(createHmac('sha1', secret).update(r.username!).digest('base64'));
    expect(r.expiresAt! - Date.now()).toBeGreaterThan(11 * 3600_000);
  });
});
