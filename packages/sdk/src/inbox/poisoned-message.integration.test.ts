/**
 * The must-show of the two-stage receive, against the real server (packages/server on a
 * random port): a message whose application throws is acked once, set aside after
 * MAX_APPLY_ATTEMPTS, shown as a marker, and never comes back — while the sender's next
 * messages arrive as usual, before and after a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { ReceivedEnvelope } from '../types.js';
import { Harness, type TestServer } from '../../../../test/harness/index.js';
import { Client } from '../client.js';
import type { KluisError } from '../errors.js';
import { openDatabase } from '../store/db.js';
import { InboxStore } from '../store/inbox-store.js';
import { nextEvent } from '../testing/helpers.js';
import type { ClientHooks, StoredMessage } from '../types.js';
import { MAX_APPLY_ATTEMPTS } from './inbox-drain.js';

const h = new Harness();
let server: TestServer;

beforeAll(async () => {
  server = await h.startServer();
});
afterAll(() => h.dispose());

describe('a poisoned message', () => {
  it('is acked once, set aside after N attempts with a marker, the next messages arrive, and it never comes back', async () => {
    const alice = await h.registeredClient(server, 'poisonalice');
    const b = 'poisonbob';
    const bobDir = await h.tempDir(b);
    const committed: string[] = [];
    const attempts: Array<{ guid: string; attempt: number }> = [];
    let poisoned: string | undefined;
    const hooks: ClientHooks = {
      beforeCommit: (e: ReceivedEnvelope) => void committed.push(e.guid),
      beforeApply: (m) => {
        // The first message Bob applies is the poisoned one: every attempt at it fails.
        poisoned ??= m.guid;
        if (m.guid !== poisoned) return;
        attempts.push({ guid: m.guid, attempt: m.attempt });
        throw new Error('injected fault in the applier');
      },
    };
    const open = async () => {
      const c = await Client.open({ profileDir: bobDir, passphrase: h.passphrase, hooks });
      h.onDispose(() => c.close());
      return c;
    };
    let bob = await open();
    const [invite] = await server.mintInvites(1);
    await bob.register({ serverUrl: server.url, inviteCode: invite!, username: b });
    await alice.send(b, 'the poisoned one');
    await alice.send(b, 'the next one');
    await alice.send(b, 'and the one after');

    const errors: KluisError[] = [];
    bob.on('error', (e) => errors.push(e as KluisError));
    const empty = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty;
    const conversation = await bob.messages.list({ conversation: 'poisonalice' });
    expect(conversation.map((m) => [m.kind, m.text])).toEqual([
      ['missing', 'a message could not be shown'],
      ['text', 'the next one'],
      ['text', 'and the one after'],
    ]);
    expect(conversation[0]).toMatchObject({ id: poisoned, event: [{ type: 'not-shown' }], from: { username: 'poisonalice' } });
    expect(attempts.map((a) => a.attempt)).toEqual(Array.from({ length: MAX_APPLY_ATTEMPTS }, (_, i) => i + 1));
    expect(committed.filter((g) => g === poisoned)).toEqual([poisoned]);
    expect(errors.map((e) => e.code)).toEqual(['MESSAGE_NOT_SHOWN']);
    expect(errors[0]!.message).not.toMatch(/poison/);

    // Live, the sender's next message arrives as usual.
    const live = nextEvent(bob, 'message', (m: StoredMessage) => m.text === 'still talking');
    await alice.send(b, 'still talking');
    await live;

    // A restart: the poisoned message is not redelivered, nothing is shown twice.
    await bob.close();
    const db = openDatabase(join(bobDir, 'kluis.db'), h.passphrase);
    const inbox = new InboxStore(db, Date.now);
    expect(inbox.count()).toBe(0);
    expect(inbox.deadLetters()).toMatchObject([{ guid: poisoned, conversation: 'poisonalice', attempts: MAX_APPLY_ATTEMPTS }]);
    db.close();
    committed.length = 0;
    attempts.length = 0;
    bob = await open();
    const again: StoredMessage[] = [];
    bob.on('message', (m) => again.push(m));
    const empty2 = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty2;
    expect(committed).toEqual([]);
    expect(attempts).toEqual([]);
    expect(again).toEqual([]);
    const after = nextEvent(bob, 'message', (m: StoredMessage) => m.text === 'after the restart');
    await alice.send(b, 'after the restart');
    await after;
    expect((await bob.messages.list({ conversation: 'poisonalice' })).map((m) => m.text)).toEqual([
      'a message could not be shown',
      'the next one',
      'and the one after',
      'still talking',
      'after the restart',
    ]);
    expect(committed).not.toContain(poisoned);
  });
});
