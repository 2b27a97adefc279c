import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { encodeContent } from '@kluis/protocol';
import { KluisError } from '../errors.js';
import { openDatabase } from '../store/db.js';
import { InboxStore } from '../store/inbox-store.js';
import { tempDir } from '../store/test-util.js';
import { openLocalDevice, type LocalDevice } from '../testing/local-device.js';
import type { ClientHooks, StoredMessage } from '../types.js';
import { InboxDrain, MAX_APPLY_ATTEMPTS } from './inbox-drain.js';

const t = tempDir();
afterAll(() => t.cleanup());
let open: LocalDevice[] = [];
afterEach(() => {
  for (const d of open) d.close();
  open = [];
});

const ALICE = '00000000-0000-4000-8000-00000000a11c';
let n = 0;

function bob(name = `bob${n++}`): LocalDevice {
  const d = openLocalDevice(join(t.dir, `${name}.db`), 'bob', {
    lookupUsername: async (u) => ({ accountId: u === 'alice' ? ALICE : 'someone-else', username: u }),
  });
  open.push(d);
  return d;
}

/** A message from Alice as stage 1 leaves it: decrypted, committed, acked. */
function received(d: LocalDevice, text: string, ts: number, guid = `guid-${n++}`): string {
  const content = encodeContent({ body: { case: 'data', value: { text, timestamp: BigInt(ts), senderUsername: 'alice' } } });
  new InboxStore(d.db, Date.now).put({ guid, sourceAccount: ALICE, sourceDevice: 1, serverTimestamp: ts + 5, sealed: true, viaSenderKey: false, content });
  return guid;
}

/** SQLite refuses BEGIN inside a transaction: the probe tells whether one is open. */
function inTransaction(d: LocalDevice): boolean {
  try {
    d.db.exec('BEGIN');
  } catch {
    return true;
  }
  d.db.exec('COMMIT');
  return false;
}

const drainOf = (d: LocalDevice, hooks: ClientHooks = {}) => new InboxDrain(d.ctx, new InboxStore(d.db, Date.now), d.applier, hooks);
const shown = (d: LocalDevice) => d.events.filter((e) => e.event === 'message').map((e) => (e.args[0] as StoredMessage).text);
const errors = (d: LocalDevice) => d.events.filter((e) => e.event === 'error').map((e) => e.args[0] as KluisError);
const texts = (d: LocalDevice) => d.data.listMessages({ conversation: 'alice' }).map((m) => m.body);

describe('stage 2: the inbox drain', () => {
  it('applies rows in arrival order, each in the transaction that deletes it, and looks the sender up outside any transaction', async () => {
    const d = bob();
    received(d, 'first', 1000);
    received(d, 'second', 2000);
    received(d, 'third', 3000);
    const inTx: boolean[] = [];
    const lookup = d.ctx.api().lookupUsername.bind(d.ctx.api());
    d.ctx.api().lookupUsername = async (u: string) => {
      inTx.push(inTransaction(d));
      return lookup(u);
    };
    await drainOf(d).drain();
    expect(texts(d)).toEqual(['first', 'second', 'third']);
    expect(shown(d)).toEqual(['first', 'second', 'third']);
    // One lookup: the verified name is a contact from the first message on.
    expect(d.lookups).toEqual(['alice']);
    expect(inTx).toEqual([false]);
    expect(d.data.usernameOf(ALICE)).toBe('alice');
    expect(new InboxStore(d.db, Date.now).count()).toBe(0);
    expect(errors(d)).toEqual([]);
  });

  it('records each attempt before it runs; a message that applies on the third try is shown once', async () => {
    const d = bob('retry');
    received(d, 'shaky', 1000);
    const other = openDatabase(join(t.dir, 'retry.db'), 'pw');
    const seen: Array<{ attempt: number; committed: number }> = [];
    await drainOf(d, {
      beforeApply: (m) => {
        // Another connection sees the count: it was committed before this attempt.
        seen.push({ attempt: m.attempt, committed: Number(other.prepare('SELECT attempts FROM inbox').get()!.attempts) });
        if (m.attempt < 3) throw new Error('transient');
      },
    }).drain();
    other.close();
    expect(seen).toEqual([
      { attempt: 1, committed: 1 },
      { attempt: 2, committed: 2 },
      { attempt: 3, committed: 3 },
    ]);
    expect(texts(d)).toEqual(['shaky']);
    expect(shown(d)).toEqual(['shaky']);
    expect(new InboxStore(d.db, Date.now).countDeadLetters()).toBe(0);
  });

  it('rolls back what a failed attempt wrote: the message is stored once', async () => {
    const d = bob();
    received(d, 'half applied', 1000);
    const apply = d.applier.apply.bind(d.applier);
    let calls = 0;
    d.applier.apply = (meta, content) => {
      const fx = apply(meta, content);
      if (++calls === 1) throw new Error('after writing');
      return fx;
    };
    await drainOf(d).drain();
    expect(calls).toBe(2);
    expect(texts(d)).toEqual(['half applied']);
    expect(shown(d)).toEqual(['half applied']);
  });

  it(`after ${MAX_APPLY_ATTEMPTS} failed attempts: a dead letter without content, a marker, a count, and the next message goes on`, async () => {
    const d = bob();
    received(d, 'before', 1000);
    const poisoned = received(d, 'the poisoned words', 2000);
    received(d, 'after', 3000);
    const attempts: number[] = [];
    await drainOf(d, {
      beforeApply: (m) => {
        if (m.guid !== poisoned) return;
        attempts.push(m.attempt);
        throw new Error('injected fault: the poisoned words');
      },
    }).drain();
    expect(attempts).toEqual([1, 2, 3]);
    const rows = d.data.listMessages({ conversation: 'alice' });
    expect(rows.map((m) => [m.kind, m.body])).toEqual([
      ['text', 'before'],
      ['missing', 'a message could not be shown'],
      ['text', 'after'],
    ]);
    expect(rows[1]).toMatchObject({ id: poisoned, senderAccountId: ALICE, senderUsername: 'alice', event: JSON.stringify([{ type: 'not-shown' }]) });
    // Its guid is a stored message now: a redelivery is dropped.
    expect(d.data.isProcessed(poisoned)).toBe(true);
    const marker = d.events.find((e) => e.event === 'message' && (e.args[0] as StoredMessage).id === poisoned)!.args[0] as StoredMessage;
    expect(marker).toMatchObject({ conversation: 'alice', kind: 'missing', event: [{ type: 'not-shown' }] });
    const inbox = new InboxStore(d.db, Date.now);
    expect(inbox.count()).toBe(0);
    expect(inbox.deadLetters()).toMatchObject([{ guid: poisoned, conversation: 'alice', sourceAccount: ALICE, attempts: 3 }]);
    const [err, ...more] = errors(d);
    expect(more).toEqual([]);
    expect(err).toBeInstanceOf(KluisError);
    expect(err!.code).toBe('MESSAGE_NOT_SHOWN');
    // A count, never the content, the sender or the failure's text.
    expect(err!.message).toMatch(/1 set aside/);
    expect(err!.message).not.toMatch(/poisoned|alice|a11c/);
  });

  it('counts attempts across restarts: a row that already failed (or crashed) twice gets one more try', async () => {
    const d = bob('restarts');
    const guid = received(d, 'crashes the client', 1000);
    const inbox = new InboxStore(d.db, Date.now);
    // Two earlier runs died while applying it: their attempts were recorded first.
    inbox.recordAttempt(inbox.next()!.id);
    inbox.recordAttempt(inbox.next()!.id);
    d.close();
    open = [];

    const again = bob('restarts');
    const attempts: number[] = [];
    await drainOf(again, {
      beforeApply: (m) => {
        attempts.push(m.attempt);
        throw new Error('still broken');
      },
    }).drain();
    expect(attempts).toEqual([3]);
    expect(new InboxStore(again.db, Date.now).deadLetters().map((r) => r.guid)).toEqual([guid]);
  });

  it('sets aside without trying a row whose attempts ran out in earlier runs', async () => {
    const d = bob();
    received(d, 'crashed three times', 1000);
    const inbox = new InboxStore(d.db, Date.now);
    for (let i = 0; i < MAX_APPLY_ATTEMPTS; i++) inbox.recordAttempt(inbox.next()!.id);
    let tried = false;
    await drainOf(d, { beforeApply: () => void (tried = true) }).drain();
    expect(tried).toBe(false);
    expect(texts(d)).toEqual(['a message could not be shown']);
    expect(inbox.countDeadLetters()).toBe(1);
  });

  it('shows no marker for what would not have shown (a receipt), but still counts it', async () => {
    const d = bob();
    const content = encodeContent({ body: { case: 'receipt', value: { timestamps: [1n] } } });
    new InboxStore(d.db, Date.now).put({ guid: 'r1', sourceAccount: ALICE, sourceDevice: 1, serverTimestamp: 1, sealed: false, viaSenderKey: false, content });
    await drainOf(d, {
      beforeApply: () => {
        throw new Error('no');
      },
    }).drain();
    expect(d.data.listMessages()).toEqual([]);
    expect(new InboxStore(d.db, Date.now).deadLetters()).toMatchObject([{ guid: 'r1', conversation: null }]);
    expect(errors(d).map((e) => e.code)).toEqual(['MESSAGE_NOT_SHOWN']);
  });
});
