/**
 * The send side of conversations (messenger.ts) against the in-memory fake server: what
 * is stored on the sending device and what the other side ends up with, for texts,
 * replies, reactions, edits, deletes, timers and read receipts, and what blocks a send.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pb } from '@kluis/protocol';
import type { Client } from '../client.js';
import { IdentityChangedError, NetworkError } from '../errors.js';
import { acceptedBetween, connectAndDrain, FakeNetwork, type FakeUser } from '../testing/fake-network.js';
import { nextEvent, until } from '../testing/helpers.js';
import { servicesOf } from '../testing/services.js';
import type { StoredMessage } from '../types.js';
import { MAX_TIMER_SECONDS, MIN_TIMER_SECONDS } from './messenger.js';

const net = new FakeNetwork();
beforeAll(() => net.start());
afterEach(async () => {
  vi.restoreAllMocks();
  await net.closeClients();
});
afterAll(() => net.stop());

const list = (c: Client, conversation: string) => c.messages.list({ conversation });
const find = async (c: Client, conversation: string, text: string) => (await list(c, conversation)).find((m) => m.text === text);
const sentTo = (from: FakeUser, to: FakeUser) => acceptedBetween(net.server, from.id, to.id).length;
const mineOf = (ms: StoredMessage[], text: string) => ms.find((m) => m.text === text)!.id;

/** Alice and bob, both connected; bob has alice's first message. */
async function pairWith(first: string, o: { clock?: () => number } = {}) {
  const alice = await net.user('alice', o);
  const bob = await net.user('bob');
  await alice.client.connect();
  await connectAndDrain(bob.client);
  const mine = await alice.client.send(bob.name, first);
  await until('bob has it', async () => !!(await find(bob.client, alice.name, first)));
  return { alice, bob, mine, theirs: (await find(bob.client, alice.name, first))! };
}

describe('send', () => {
  it('stores a text once, as sending while it leaves and sent after; the peer gets it once', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    const ctx = servicesOf(alice.client).ctx;
    const transmit = ctx.transmit.bind(ctx);
    const whileLeaving: Array<[string, string | null]> = [];
    vi.spyOn(ctx, 'transmit').mockImplementation(async (accountId, req) => {
      // Stored (committed with the encryption) before the request leaves.
      if (accountId === bob.id) whileLeaving.push(...ctx.data.listMessages().map((m): [string, string | null] => [m.body, m.status]));
      return transmit(accountId, req);
    });

    const m = await alice.client.send(bob.name, 'hello bob');
    expect(whileLeaving).toEqual([['hello bob', 'sending']]);
    expect(m).toMatchObject({ direction: 'outgoing', text: 'hello bob', status: 'sent', conversation: bob.name });
    expect(m.serverTimestamp).toBeTypeOf('number');
    expect((await list(alice.client, bob.name)).map((x) => [x.id, x.status])).toEqual([[m.id, 'sent']]);

    const got = await connectAndDrain(bob.client);
    expect(got.map((x) => [x.text, x.timestamp, x.direction])).toEqual([['hello bob', m.timestamp, 'incoming']]);
    expect((await list(bob.client, alice.name)).length).toBe(1);
  });

  it('a send that cannot reach the server stays stored once, as failed', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    vi.spyOn(servicesOf(alice.client).ctx, 'transmit').mockRejectedValue(new NetworkError('offline'));
    await expect(alice.client.send(bob.name, 'lost')).rejects.toBeInstanceOf(NetworkError);
    expect((await list(alice.client, bob.name)).map((x) => [x.text, x.status])).toEqual([['lost', 'failed']]);
  });

  it('a reply quotes the stored message, on both sides', async () => {
    const { alice, bob, mine, theirs } = await pairWith('a question');
    const reply = await bob.client.send(alice.name, 'an answer', { replyTo: theirs.id });
    const quote = { id: mine.timestamp, authorAccountId: alice.id, text: 'a question' };
    expect(reply.quote).toEqual(quote);
    await until('reply at alice', async () => !!(await find(alice.client, bob.name, 'an answer')));
    expect((await find(alice.client, bob.name, 'an answer'))!.quote).toEqual(quote);
    await expect(bob.client.send(alice.name, 'x', { replyTo: 'no-such-id' })).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE' });
    expect((await list(bob.client, alice.name)).map((m) => m.text)).toEqual(['a question', 'an answer']);
  });
});

describe('reactions, edits and deletes', () => {
  const emojis = (m: StoredMessage | undefined) => (m?.reactions ?? []).map((r) => [r.accountId, r.emoji]);

  it('one reaction per person: set, replaced and removed on both sides', async () => {
    const { alice, bob, mine, theirs } = await pairWith('react to me');
    const atAlice = async () => emojis(await alice.client.messages.get(mine.id));

    await bob.client.messages.react(theirs.id, '👍');
    expect(emojis(await bob.client.messages.get(theirs.id))).toEqual([[bob.id, '👍']]);
    await until('reaction at alice', async () => JSON.stringify(await atAlice()) === JSON.stringify([[bob.id, '👍']]));

    await bob.client.messages.react(theirs.id, '❤️');
    expect(emojis(await bob.client.messages.get(theirs.id))).toEqual([[bob.id, '❤️']]);
    await until('replaced at alice', async () => JSON.stringify(await atAlice()) === JSON.stringify([[bob.id, '❤️']]));

    await bob.client.messages.react(theirs.id, '❤️', { remove: true });
    expect(emojis(await bob.client.messages.get(theirs.id))).toEqual([]);
    await until('removed at alice', async () => (await atAlice()).length === 0);
    await expect(bob.client.messages.react('no-such-id', '👍')).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE' });
  });

  it('an edit changes our own message on both sides and keeps the history; not someone else’s', async () => {
    const { alice, bob, mine, theirs } = await pairWith('first words');
    await alice.client.messages.edit(mine.id, 'better words');
    const here = (await alice.client.messages.get(mine.id))!;
    expect(here.text).toBe('better words');
    expect(here.editedAt).toBeTypeOf('number');
    expect(await alice.client.messages.history(mine.id)).toEqual([expect.objectContaining({ text: 'first words' })]);
    await until('edit at bob', async () => (await bob.client.messages.get(theirs.id))?.text === 'better words');
    expect(await bob.client.messages.history(theirs.id)).toEqual([expect.objectContaining({ text: 'first words' })]);

    const before = sentTo(bob, alice);
    await expect(bob.client.messages.edit(theirs.id, 'mine now')).rejects.toMatchObject({ code: 'NOT_YOURS' });
    await expect(bob.client.messages.deleteForEveryone(theirs.id)).rejects.toMatchObject({ code: 'NOT_YOURS' });
    expect(sentTo(bob, alice)).toBe(before);
    expect((await bob.client.messages.get(theirs.id))!.text).toBe('better words');
  });

  it('edits and deletes for everyone only within 24 hours', async () => {
    let now = Date.now();
    const { alice, bob, mine } = await pairWith('yesterday', { clock: () => now });
    now += 24 * 3600_000 + 1000;
    const before = sentTo(alice, bob);
    await expect(alice.client.messages.edit(mine.id, 'too late')).rejects.toMatchObject({ code: 'TOO_OLD' });
    await expect(alice.client.messages.deleteForEveryone(mine.id)).rejects.toMatchObject({ code: 'TOO_OLD' });
    expect(sentTo(alice, bob)).toBe(before);
    expect((await alice.client.messages.get(mine.id))!).toMatchObject({ text: 'yesterday' });
    expect((await alice.client.messages.get(mine.id))!.deleted).toBeUndefined();
  });

  it('delete for everyone erases the text on both sides; a deleted message cannot be edited', async () => {
    const { alice, bob, mine, theirs } = await pairWith('oops');
    await alice.client.messages.deleteForEveryone(mine.id);
    expect(await alice.client.messages.get(mine.id)).toMatchObject({ deleted: true, text: '' });
    await until('deleted at bob', async () => !!(await bob.client.messages.get(theirs.id))?.deleted);
    expect((await bob.client.messages.get(theirs.id))!.text).toBe('');
    await expect(alice.client.messages.edit(mine.id, 'back')).rejects.toMatchObject({ code: 'DELETED' });
  });
});

describe('disappearing messages', () => {
  it('refuses timers out of range, on the conversation and as the default', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    for (const bad of [-1, 1, MIN_TIMER_SECONDS - 1, MAX_TIMER_SECONDS + 1, 60.5])
      await expect(alice.client.conversations.setTimer(bob.name, bad)).rejects.toMatchObject({ code: 'BAD_TIMER' });
    await expect(alice.client.settings.set({ defaultExpireTimer: 10 })).rejects.toMatchObject({ code: 'BAD_TIMER' });
    expect(sentTo(alice, bob)).toBe(0);
    expect(await list(alice.client, bob.name)).toEqual([]);
    expect((await alice.client.settings.get()).defaultExpireTimer).toBe(0);
  });

  it('a timer is an event on both sides; later messages carry it, and expire from sending or from reading', async () => {
    const { alice, bob } = await pairWith('before the timer');
    await alice.client.conversations.setTimer(bob.name, 60);
    const event = [{ type: 'timer', by: alice.name, seconds: 60 }];
    expect((await list(alice.client, bob.name)).at(-1)).toMatchObject({ kind: 'timer', event, status: 'sent' });
    await until('timer at bob', async () => (await list(bob.client, alice.name)).some((m) => m.kind === 'timer'));
    expect((await list(bob.client, alice.name)).at(-1)).toMatchObject({ kind: 'timer', event });
    const timerOf = async (c: Client, conv: string) => (await c.conversations.list()).find((x) => x.id === conv)?.expireTimer;
    expect(await timerOf(alice.client, bob.name)).toBe(60);
    expect(await timerOf(bob.client, alice.name)).toBe(60);

    const m = await alice.client.send(bob.name, 'gone in a minute');
    // The sender's copy runs from sending; the recipient's from reading.
    expect(m).toMatchObject({ expireTimer: 60, expiresAt: m.timestamp + 60_000 });
    await until('text at bob', async () => !!(await find(bob.client, alice.name, 'gone in a minute')));
    const theirs = (await find(bob.client, alice.name, 'gone in a minute'))!;
    expect(theirs.expireTimer).toBe(60);
    expect(theirs.expiresAt).toBeUndefined();
    const t0 = Date.now();
    await bob.client.conversations.markRead(alice.name);
    const read = (await bob.client.messages.get(theirs.id))!;
    expect(read.expiresAt).toBeGreaterThanOrEqual(t0 + 60_000);
    expect(read.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
  });
});

describe('read receipts', () => {
  const readTypes = (spy: { mock: { calls: Array<[string, pb.ReceiptMessage_Type, number]> } }) =>
    spy.mock.calls.filter((c) => c[1] === pb.ReceiptMessage_Type.READ).map((c) => [c[0], c[2]]);

  it('markRead sends read receipts; the sender sees who read', async () => {
    const { alice, bob, mine } = await pairWith('read me');
    const second = await alice.client.send(bob.name, 'me too');
    await until('second at bob', async () => !!(await find(bob.client, alice.name, 'me too')));
    const add = vi.spyOn(servicesOf(bob.client).convo.messenger.receipts, 'add');

    expect(await bob.client.conversations.markRead(alice.name)).toBe(2);
    expect(readTypes(add)).toEqual([
      [alice.id, mine.timestamp],
      [alice.id, second.timestamp],
    ]);
    for (const id of [mine.id, second.id])
      await until('read at alice', async () => !!(await alice.client.messages.get(id))?.receipts?.read.includes(bob.id));
    // Nothing left unread: no second receipt.
    expect(await bob.client.conversations.markRead(alice.name)).toBe(0);
    expect(readTypes(add).length).toBe(2);
  });

  it('with read receipts turned off, markRead still marks read but sends none', async () => {
    const { alice, bob, theirs } = await pairWith('read quietly');
    await bob.client.settings.set({ readReceipts: false });
    const add = vi.spyOn(servicesOf(bob.client).convo.messenger.receipts, 'add');
    expect(await bob.client.conversations.markRead(alice.name)).toBe(1);
    expect((await bob.client.messages.get(theirs.id))!.readAt).toBeTypeOf('number');
    expect(readTypes(add)).toEqual([]);
  });
});

describe('what blocks a send', () => {
  it('a blocked peer cannot be sent to, nor reacted to, until unblocked', async () => {
    const { alice, bob, mine } = await pairWith('last words');
    await alice.client.contacts.block(bob.name);
    const before = sentTo(alice, bob);
    await expect(alice.client.send(bob.name, 'blocked')).rejects.toMatchObject({ code: 'BLOCKED' });
    await expect(alice.client.messages.react(mine.id, '👍')).rejects.toMatchObject({ code: 'BLOCKED' });
    expect(sentTo(alice, bob)).toBe(before);
    expect((await list(alice.client, bob.name)).map((m) => m.text)).toEqual(['last words']);

    await alice.client.contacts.unblock(bob.name);
    await alice.client.send(bob.name, 'friends again');
    await until('bob has it', async () => !!(await find(bob.client, alice.name, 'friends again')));
  });

  // A timer change is refused before the local timer changes; typing is best effort and says nothing.
  it('a blocked peer gets no timer change and no typing indicator', async () => {
    const { alice, bob } = await pairWith('before the block');
    await alice.client.contacts.block(bob.name);
    const before = sentTo(alice, bob);
    await expect(alice.client.conversations.setTimer(bob.name, 60)).rejects.toMatchObject({ code: 'BLOCKED' });
    await alice.client.conversations.typing(bob.name, true);
    expect(sentTo(alice, bob)).toBe(before);
  });

  it('a changed identity blocks sending before anything is encrypted, until trusted', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    await alice.client.send(bob.name, 'one');
    await bob.client.reregister();
    await expect(alice.client.send(bob.name, 'two')).rejects.toBeInstanceOf(IdentityChangedError);
    expect((await find(alice.client, bob.name, 'two'))?.status).toBe('failed');

    const transmit = vi.spyOn(servicesOf(alice.client).ctx, 'transmit');
    await expect(alice.client.send(bob.name, 'three')).rejects.toBeInstanceOf(IdentityChangedError);
    await expect(alice.client.messages.react(mineOf(await list(alice.client, bob.name), 'one'), '👍')).rejects.toBeInstanceOf(IdentityChangedError);
    expect(transmit).not.toHaveBeenCalled();
    expect(await find(alice.client, bob.name, 'three')).toBeUndefined();

    await alice.client.identity.trust(bob.name);
    await alice.client.send(bob.name, 'four');
    expect((await connectAndDrain(bob.client)).map((m) => m.text)).toEqual(['four']);
  });
});

describe('our other devices', () => {
  it('get sync copies of what we send, edit and read', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    const alice2 = await net.link(alice.client);
    await Promise.all([alice.client.connect(), connectAndDrain(alice2), bob.client.connect()]);

    const copy = nextEvent(alice2, 'message', (m) => m.text === 'from the laptop');
    const m = await alice.client.send(bob.name, 'from the laptop');
    expect((await copy)[0]).toMatchObject({ sync: true, direction: 'outgoing', conversation: bob.name, timestamp: m.timestamp });

    await alice.client.messages.edit(m.id, 'edited on the laptop');
    await until('edit synced', async () => !!(await find(alice2, bob.name, 'edited on the laptop')));

    const incoming = nextEvent(alice2, 'message', (x) => x.text === 'hi alice');
    await bob.client.send(alice.name, 'hi alice');
    const [atAlice2] = await incoming;
    await until('at the laptop', async () => !!(await find(alice.client, bob.name, 'hi alice')));
    expect(await alice.client.conversations.markRead(bob.name)).toBe(1);
    await until('read synced', async () => (await alice2.messages.get(atAlice2.id))?.readAt !== undefined);
    // Already read there (the sync did it): nothing left for alice2 to mark.
    expect(await alice2.conversations.markRead(bob.name)).toBe(0);
  });
});
