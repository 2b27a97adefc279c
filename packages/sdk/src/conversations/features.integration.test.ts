/**
 * What people expect of a conversation, against the real server, asserted on every
 * recipient device: replies, reactions, edits, delete for everyone, receipts, typing,
 * disappearing messages, profiles, gaps recovered by resend, content from newer clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { toBinary, create } from '@bufbuild/protobuf';
import { makeContent, padContent, pb } from '@kluis/protocol';
import { Harness, WithholdingProxy, type TestServer } from '../../../../test/harness/index.js';
import { linkDevice, connectedUser } from '../../../../test/harness/sdk-helpers.js';
import type { Client } from '../client.js';
import type { OpenOptions, StoredMessage } from '../types.js';
import { nextEvent, until } from '../testing/helpers.js';
import { internalsOf } from '../testing/services.js';

const h = new Harness();
let server: TestServer;
let n = 0;

beforeAll(async () => {
  server = await h.startServer();
});
afterAll(() => h.dispose());

async function user(base: string, o: Partial<OpenOptions> & { serverUrl?: string } = {}): Promise<{ c: Client; name: string }> {
  const name = `${base}${n++}`;
  return { c: await connectedUser(h, server, name, o), name };
}

async function find(c: Client, conversation: string, text: string): Promise<StoredMessage | undefined> {
  return (await c.messages.list({ conversation })).find((m) => m.text === text);
}

describe('conversation features', () => {
  it('replies, reactions, edits and delete for everyone reach every device', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const bob2 = await h.openClient(`${bob.name}-2`);
    await linkDevice(bob.c, bob2, server.url);
    await bob2.connect();
    const bobs = [bob.c, bob2];

    const first = await alice.c.send(bob.name, 'original text');
    for (const c of bobs) await until('original arrives', async () => !!(await find(c, alice.name, 'original text')));
    const atBob = (await find(bob.c, alice.name, 'original text'))!;

    // Reply with a quote, from bob's first device; his second device gets the sync copy.
    await bob.c.send(alice.name, 'a reply', { replyTo: atBob.id });
    await until('reply at alice', async () => !!(await find(alice.c, bob.name, 'a reply')));
    expect((await find(alice.c, bob.name, 'a reply'))!.quote).toMatchObject({ id: first.timestamp, text: 'original text' });
    await until('reply synced', async () => !!(await find(bob2, alice.name, 'a reply'))?.quote);

    // Reactions: one per person, changeable, removable.
    await bob.c.messages.react(atBob.id, '👍');
    await bob.c.messages.react(atBob.id, '❤️');
    const reactionsAt = async (c: Client, conv: string) => (await find(c, conv, 'original text'))?.reactions?.map((r) => r.emoji);
    await until('reaction at alice', async () => JSON.stringify(await reactionsAt(alice.c, bob.name)) === JSON.stringify(['❤️']));
    await until('reaction at bob2', async () => JSON.stringify(await reactionsAt(bob2, alice.name)) === JSON.stringify(['❤️']));
    await bob.c.messages.react(atBob.id, '❤️', { remove: true });
    await until('reaction removed', async () => (await reactionsAt(alice.c, bob.name)) === undefined);

    // Edit: new text everywhere, history kept.
    await alice.c.messages.edit(first.id, 'edited text');
    for (const c of bobs) await until('edit arrives', async () => !!(await find(c, alice.name, 'edited text'))?.editedAt);
    const edited = (await find(bob2, alice.name, 'edited text'))!;
    expect(await bob2.messages.history(edited.id)).toEqual([expect.objectContaining({ text: 'original text' })]);

    // Delete for everyone: the text is gone on every device, also from search.
    await alice.c.messages.deleteForEveryone(first.id);
    for (const c of [...bobs, alice.c]) {
      const conv = c === alice.c ? bob.name : alice.name;
      await until('deleted everywhere', async () => (await c.messages.list({ conversation: conv })).some((m) => m.deleted));
      expect((await c.messages.list({ conversation: conv })).some((m) => m.text.includes('edited') || m.text === 'original text')).toBe(false);
      expect(await c.messages.search('edited')).toEqual([]);
    }
    // Someone else's message cannot be edited or deleted.
    const reply = (await find(alice.c, bob.name, 'a reply'))!;
    await expect(alice.c.messages.edit(reply.id, 'nope')).rejects.toMatchObject({ code: 'NOT_YOURS' });
  }, 90_000);

  it('delivery and read receipts, typing that is never stored, search', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const sent = await alice.c.send(bob.name, 'please read me');
    await until('delivered', async () => !!(await find(alice.c, bob.name, 'please read me'))?.receipts?.delivered.length);
    await until('bob has it', async () => !!(await find(bob.c, alice.name, 'please read me')));
    expect((await bob.c.conversations.list()).find((c) => c.id === alice.name)?.unread).toBe(1);
    await bob.c.conversations.markRead(alice.name);
    await until('read', async () => !!(await find(alice.c, bob.name, 'please read me'))?.receipts?.read.length);
    expect((await bob.c.conversations.list()).find((c) => c.id === alice.name)?.unread).toBe(0);
    void sent;

    // Read receipts switched off: delivery still confirmed, reading not.
    await bob.c.settings.set({ readReceipts: false });
    await alice.c.send(bob.name, 'second');
    await until('second delivered', async () => !!(await find(alice.c, bob.name, 'second'))?.receipts?.delivered.length);
    await bob.c.conversations.markRead(alice.name);
    await new Promise((r) => setTimeout(r, 500));
    expect((await find(alice.c, bob.name, 'second'))?.receipts?.read ?? []).toEqual([]);

    // Typing reaches an online device and is never stored for an offline one.
    const typing = nextEvent(bob.c, 'typing');
    await alice.c.conversations.typing(bob.name, true);
    expect((await typing)[0]).toMatchObject({ conversation: alice.name, started: true });
    await bob.c.close();
    await alice.c.conversations.typing(bob.name, true);
    const { Client } = await import('../client.js');
    const bobAgain = await Client.open({ profileDir: bob.c.profileDir, passphrase: h.passphrase, bootstrap: false });
    h.onDispose(() => bobAgain.close());
    let typed = 0;
    bobAgain.on('typing', () => typed++);
    const empty = nextEvent(bobAgain, 'queue-empty');
    await bobAgain.connect();
    await empty;
    expect(typed).toBe(0);

    // Full-text search over the local history.
    expect((await bobAgain.messages.search('read me')).map((m) => m.text)).toEqual(['please read me']);
  }, 60_000);

  it('disappearing messages: content and files gone on every device after the timer', async () => {
    let skew = 0;
    const clock = () => Date.now() + skew;
    const alice = await user('alice', { clock });
    const bob = await user('bob', { clock });
    await alice.c.conversations.setTimer(bob.name, 30);
    await until('timer at bob', async () => (await bob.c.conversations.list()).find((c) => c.id === alice.name)?.expireTimer === 30);
    const timerEvent = [{ type: 'timer', by: alice.name, seconds: 30 }];
    expect((await bob.c.messages.list({ conversation: alice.name })).find((m) => m.kind === 'timer')).toMatchObject({
      event: timerEvent,
      text: `${alice.name} set disappearing messages to 30s`,
    });
    expect((await alice.c.messages.list({ conversation: bob.name })).find((m) => m.kind === 'timer')?.event).toEqual(timerEvent);
    const file = join(await h.tempDir('files'), 'note.txt');
    await writeFile(file, 'a file that will vanish');
    await alice.c.send(bob.name, 'this will vanish', { files: [{ path: file }] });
    await until('bob got it', async () => (await find(bob.c, alice.name, 'this will vanish'))?.attachments?.[0]?.state === 'downloaded');
    const m = (await find(bob.c, alice.name, 'this will vanish'))!;
    expect(m.expiresAt).toBeUndefined(); // the timer starts when read
    await bob.c.conversations.markRead(alice.name);
    expect((await find(bob.c, alice.name, 'this will vanish'))!.expiresAt).toBeGreaterThan(Date.now());
    skew = 31_000;
    await until('gone at bob', async () => !(await find(bob.c, alice.name, 'this will vanish')), 5000);
    await until('gone at alice', async () => !(await find(alice.c, bob.name, 'this will vanish')), 5000);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(join(bob.c.profileDir, 'attachments')).catch(() => [])).toEqual([]);
  }, 60_000);

  it('a file reaches every recipient device intact, and the blob stays on the server until its TTL', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const bob2 = await h.openClient(`${bob.name}-2`);
    await linkDevice(bob.c, bob2, server.url);
    await bob2.connect();
    const dir = await h.tempDir('blob');
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
    await writeFile(join(dir, 'photo.bin'), bytes);
    const sent = await alice.c.send(bob.name, 'a file', { files: [{ path: join(dir, 'photo.bin') }] });
    for (const c of [bob.c, bob2]) {
      await until('fetched', async () => (await find(c, alice.name, 'a file'))?.attachments?.[0]?.state === 'downloaded');
      const out = join(dir, `copy-${c === bob.c ? 1 : 2}.bin`);
      await c.messages.saveAttachment((await find(c, alice.name, 'a file'))!.id, 0, out);
      expect((await readFile(out)).equals(bytes)).toBe(true);
    }
    // The sender's own device keeps a copy it can open like a received one.
    await alice.c.messages.saveAttachment(sent.id, 0, join(dir, 'mine.bin'));
    expect((await readFile(join(dir, 'mine.bin'))).equals(bytes)).toBe(true);
    const { parseAttachments } = await import('./stored.js');
    const id = parseAttachments(internalsOf(alice.c).data.getMessage(sent.id)!.attachments)[0]!.id;
    // No device releases it (one could release it for everyone): it is still whole after
    // every recipient device fetched it, for a device that fetches late, until it expires.
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of [alice.c, bob.c, bob2]) {
      const r = await internalsOf(c).api().raw('attachmentStatus', { params: { id } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ size: expect.any(Number), complete: true });
    }
  }, 60_000);

  it('profiles: names travel encrypted with the profile key', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.c.profile.set({ name: 'Alice Anders' });
    await alice.c.send(bob.name, 'hi, it is me');
    await until('bob sees the name', async () => (await bob.c.contacts.profile(alice.name))?.name === 'Alice Anders');
  }, 30_000);

  it('a withheld message is reported missing, then recovered by resend', async () => {
    const alice = await user('alice');
    let proxy: WithholdingProxy | undefined;
    const bobName = `bob${n++}`;
    proxy = await WithholdingProxy.start(server.url);
    h.onDispose(() => proxy!.close());
    const { Client } = await import('../client.js');
    const bob = await Client.open({ profileDir: await h.tempDir(bobName), passphrase: h.passphrase, bootstrap: false, gapWindowMs: 300 });
    h.onDispose(() => bob.close());
    const [invite] = await server.mintInvites(1);
    await bob.register({ serverUrl: proxy.url, inviteCode: invite!, username: bobName });
    await bob.connect();
    await alice.c.send(bobName, 'one');
    await until('one', async () => !!(await find(bob, alice.name, 'one')));
    let drop = true;
    proxy.withhold = (e) => {
      if (drop && e.sourceAccount === alice.c.account!.accountId) {
        drop = false;
        return true;
      }
      return false;
    };
    await alice.c.send(bobName, 'two (withheld)');
    const missing = nextEvent(bob, 'messages-missing');
    await alice.c.send(bobName, 'three');
    expect((await missing)[0]).toMatchObject({ conversation: alice.name, count: 1 });
    await until('recovered', async () => !!(await find(bob, alice.name, 'two (withheld)')));
    await until('marker gone', async () => !(await bob.messages.list({ conversation: alice.name })).some((m) => m.kind === 'missing'));
    expect((await bob.messages.list({ conversation: alice.name })).map((m) => m.text)).toEqual(['one', 'three', 'two (withheld)']);
    expect(proxy.withheld).toHaveLength(1);
  }, 60_000);

  it('reads and deletes on one device show on the other; blocking rotates the profile key', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const bob2 = await h.openClient(`${bob.name}-2`);
    await linkDevice(bob.c, bob2, server.url);
    await bob2.connect();
    await alice.c.profile.set({ name: 'Alice' });
    await alice.c.send(bob.name, 'read me once');
    await alice.c.send(bob.name, 'delete me');
    for (const c of [bob.c, bob2]) await until('both arrive', async () => !!(await find(c, alice.name, 'delete me')));
    await bob.c.conversations.markRead(alice.name);
    await until('read on bob2', async () => !!(await find(bob2, alice.name, 'read me once'))?.readAt);
    await bob.c.messages.deleteForMe((await find(bob.c, alice.name, 'delete me'))!.id);
    await until('deleted on bob2', async () => !(await find(bob2, alice.name, 'delete me')));
    expect(await find(alice.c, bob.name, 'delete me')).toBeDefined();

    await until('bob knows alice’s name', async () => (await bob.c.contacts.profile(alice.name))?.name === 'Alice');
    await alice.c.contacts.block(bob.name);
    await expect(alice.c.send(bob.name, 'no')).rejects.toMatchObject({ code: 'BLOCKED' });
    await bob.c.send(alice.name, 'are you there?');
    await new Promise((r) => setTimeout(r, 500));
    expect(await find(alice.c, bob.name, 'are you there?')).toBeUndefined();
    // The profile on the server is now under a key bob does not have.
    await internalsOf(bob.c).conv.putProfileData(alice.c.account!.accountId, { name: null, avatar: null, version: null });
    await internalsOf(bob.c).convo.refreshProfile(alice.c.account!.accountId);
    expect((await bob.c.contacts.profile(alice.name))?.name).toBeUndefined();
  }, 60_000);

  it('edits and group changes take counters too: no false "missing" after them', async () => {
    const alice = await user('alice', { gapWindowMs: 300 });
    const bob = await user('bob', { gapWindowMs: 300 });
    const one = await alice.c.send(bob.name, 'one');
    await until('one', async () => !!(await find(bob.c, alice.name, 'one')));
    await alice.c.messages.edit(one.id, 'one (edited)');
    const conv = await alice.c.groups.create('Counters', [bob.name]);
    await until('group at bob', async () => (await bob.c.groups.find(conv)) !== undefined);
    await alice.c.groups.rename(conv, 'Counters 2');
    await alice.c.send(bob.name, 'two');
    await alice.c.send(conv, 'in the group');
    await until('two', async () => !!(await find(bob.c, alice.name, 'two')));
    await until('group message', async () => !!(await find(bob.c, conv, 'in the group')));
    await new Promise((r) => setTimeout(r, 1500));
    const all = await bob.c.messages.list();
    expect(all.filter((m) => m.kind === 'missing')).toEqual([]);
    // Both sides keep what changed, in parts a UI can translate.
    const groupEvents = async (c: Client) =>
      (await c.messages.list({ conversation: conv })).filter((m) => m.kind === 'group-update').map((m) => m.event);
    const expected = [[{ type: 'created', by: alice.name, title: 'Counters' }], [{ type: 'renamed', by: alice.name, title: 'Counters 2' }]];
    expect(await groupEvents(bob.c)).toEqual(expected);
    expect(await groupEvents(alice.c)).toEqual(expected);
  }, 30_000);

  it('content from a newer client with unknown fields is accepted', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.c.send(bob.name, 'hello');
    await until('first', async () => !!(await find(bob.c, alice.name, 'hello')));
    const data = create(pb.DataMessageSchema, { timestamp: BigInt(Date.now()), counter: 2n, senderUsername: alice.name, text: 'from the future' });
    const w = new BinaryWriter();
    w.raw(toBinary(pb.ContentSchema, makeContent({ body: { case: 'data', value: data } })));
    w.tag(77, WireType.LengthDelimited).string('a field this client does not know');
    await internalsOf(alice.c).sender.sendToAccount(bob.c.account!.accountId, padContent(w.finish()), Date.now());
    await until('accepted', async () => !!(await find(bob.c, alice.name, 'from the future')));
  }, 30_000);

  it('a linked device gets the profile key with the link: it edits the profile before any sync reached it', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.c.send(bob.name, 'my profile key travels with this');
    await until('bob has alice’s message', async () => !!(await find(bob.c, alice.name, 'my profile key travels with this')));
    // Never connected: the primary's sync of keys is still queued for it.
    const alice2 = await h.openClient(`${alice.name}-2`);
    await linkDevice(alice.c, alice2, server.url);
    await alice2.profile.set({ name: 'Alice on her laptop' });
    await until('bob reads the new name with the key he holds', async () => (await bob.c.contacts.profile(alice.name, { refresh: true }))?.name === 'Alice on her laptop');
  });
});
