import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { EnvelopeType } from '@kluis/protocol';
import type { ReceivedEnvelope } from './types.js';
import type { KluisError } from './errors.js';
import { Receiver } from './receiver.js';
import type { Sender } from './sender.js';
import { openDatabase } from './store/db.js';
import { InboxStore } from './store/inbox-store.js';
import { tempDir } from './store/test-util.js';
import { envelopeFor, openLocalDevice, textContent, type LocalDevice } from './testing/local-device.js';
import type { ClientHooks, StoredMessage } from './types.js';

const t = tempDir();
afterAll(() => t.cleanup());
let open: LocalDevice[] = [];
afterEach(() => {
  for (const d of open) d.close();
  open = [];
});
let n = 0;

/** Alice (who only encrypts) and Bob (whose receiver is under test), each on a real SQLCipher store. */
function pair(name = `p${n++}`): { alice: LocalDevice; bob: LocalDevice; bobPath: string } {
  const bobPath = join(t.dir, `${name}-bob.db`);
  const alice = openLocalDevice(join(t.dir, `${name}-alice.db`), 'alice');
  const bob = openBob(bobPath, alice);
  open.push(alice);
  return { alice, bob, bobPath };
}

function openBob(path: string, alice: LocalDevice): LocalDevice {
  const bob = openLocalDevice(path, 'bob', {
    lookupUsername: async (u) => ({ accountId: u === 'alice' ? alice.account.accountId : randomUUID(), username: u }),
  });
  open.push(bob);
  return bob;
}

function receiverOf(bob: LocalDevice, o: { hooks?: ClientHooks; ack?: (guid: string) => void } = {}): { receiver: Receiver; acks: string[] } {
  const acks: string[] = [];
  const ack = (guid: string) => {
    acks.push(guid);
    o.ack?.(guid);
  };
  // The sender answers resend requests only; none of these tests asks for one.
  return { receiver: new Receiver(bob.ctx, {} as Sender, o.hooks ?? {}, ack, bob.applier), acks };
}

const texts = (d: LocalDevice) => d.data.listMessages().map((m) => m.body);
const shown = (d: LocalDevice) => d.events.filter((e) => e.event === 'message').map((e) => (e.args[0] as StoredMessage).text);
const errorCodes = (d: LocalDevice) => d.events.filter((e) => e.event === 'error').map((e) => (e.args[0] as KluisError).code);

describe('stage 1: decrypt, commit with the plaintext, then ack', () => {
  it('commits the session and the plaintext in the inbox before the ack; applies after it', async () => {
    const { alice, bob, bobPath } = pair('commit');
    const env = await envelopeFor(alice, bob, textContent('hello bob', alice));
    expect(env.type).toBe(EnvelopeType.PreKey);
    const other = openDatabase(bobPath, 'pw');
    const atAck: unknown[] = [];
    const { receiver, acks } = receiverOf(bob, {
      ack: (guid) =>
        // Another connection sees only what was committed.
        atAck.push({
          processed: other.prepare('SELECT count(*) AS n FROM processed_envelopes WHERE guid = ?').get([guid])!.n,
          inbox: other.prepare('SELECT count(*) AS n FROM inbox WHERE guid = ?').get([guid])!.n,
          sessions: other.prepare('SELECT count(*) AS n FROM sessions WHERE account_id = ?').get([alice.account.accountId])!.n,
          messages: other.prepare('SELECT count(*) AS n FROM messages').get()!.n,
        }),
    });
    receiver.enqueue(env);
    await receiver.idle();
    other.close();
    expect(acks).toEqual([env.guid]);
    expect(atAck).toEqual([{ processed: 1, inbox: 1, sessions: 1, messages: 0 }]);
    expect(texts(bob)).toEqual(['hello bob']);
    expect(shown(bob)).toEqual(['hello bob']);
    expect(new InboxStore(bob.db, Date.now).count()).toBe(0);
    expect(errorCodes(bob)).toEqual([]);
  });

  it('acks and drops an envelope whose guid it processed before', async () => {
    const { alice, bob } = pair();
    const env = await envelopeFor(alice, bob, textContent('once', alice));
    const committed: string[] = [];
    const { receiver, acks } = receiverOf(bob, { hooks: { beforeCommit: (e) => void committed.push(e.guid) } });
    receiver.enqueue(env);
    receiver.enqueue(env);
    await receiver.idle();
    expect(acks).toEqual([env.guid, env.guid]);
    expect(committed).toEqual([env.guid]);
    expect(texts(bob)).toEqual(['once']);
    expect(shown(bob)).toEqual(['once']);
  });

  it('acks and drops a replayed ciphertext under a new guid (a duplicate to libsignal)', async () => {
    const { alice, bob } = pair();
    const env = await envelopeFor(alice, bob, textContent('replayed', alice));
    const replay: ReceivedEnvelope = { ...env, guid: randomUUID() };
    const { receiver, acks } = receiverOf(bob);
    receiver.enqueue(env);
    receiver.enqueue(replay);
    await receiver.idle();
    expect(acks).toEqual([env.guid, replay.guid]);
    expect(texts(bob)).toEqual(['replayed']);
    expect(bob.data.isProcessed(replay.guid)).toBe(true);
    expect(errorCodes(bob)).toEqual([]);
  });

  it('a crash before the commit (the hook throws) leaves the envelope unacked and nothing committed; redelivered, it is stored once', async () => {
    const { alice, bob } = pair();
    const env = await envelopeFor(alice, bob, textContent('survives', alice));
    let crash = true;
    const { receiver, acks } = receiverOf(bob, {
      hooks: {
        beforeCommit: () => {
          if (crash) throw new Error('simulated crash');
        },
      },
    });
    receiver.enqueue(env);
    await receiver.idle();
    expect(acks).toEqual([]);
    expect(bob.data.isProcessed(env.guid)).toBe(false);
    expect(bob.store.getSession(alice.address().toString())).toBeUndefined();
    crash = false;
    receiver.enqueue(env);
    await receiver.idle();
    expect(acks).toEqual([env.guid]);
    expect(texts(bob)).toEqual(['survives']);
  });

  it('looks the sender up with no lock held and no transaction open', async () => {
    const { alice, bob } = pair();
    const seen: Array<{ locks: number; inTransaction: boolean }> = [];
    const api = bob.ctx.api();
    const lookup = api.lookupUsername.bind(api);
    api.lookupUsername = async (u: string) => {
      let inTransaction = false;
      try {
        bob.db.exec('BEGIN');
        bob.db.exec('COMMIT');
      } catch {
        inTransaction = true;
      }
      seen.push({ locks: bob.ctx.locks.held().length, inTransaction });
      return lookup(u);
    };
    const { receiver } = receiverOf(bob);
    receiver.enqueue(await envelopeFor(alice, bob, textContent('who am I', alice)));
    await receiver.idle();
    expect(seen).toEqual([{ locks: 0, inTransaction: false }]);
    expect(bob.data.listMessages()[0]).toMatchObject({ conversation: 'alice', senderUsername: 'alice' });
  });

  it('applies what a crash left in the inbox at the next start, before the new backlog, in order', async () => {
    const { alice, bob, bobPath } = pair('restart');
    const first = await envelopeFor(alice, bob, textContent('one', alice, 1000));
    const second = await envelopeFor(alice, bob, textContent('two', alice, 2000));
    const { receiver, acks } = receiverOf(bob);
    // Stage 1 only, then the process dies.
    await receiver.process(first);
    expect(acks).toEqual([first.guid]);
    expect(texts(bob)).toEqual([]);
    bob.close();
    open = open.filter((d) => d !== bob);

    const again = openBob(bobPath, alice);
    const r2 = receiverOf(again);
    r2.receiver.enqueue(second);
    await r2.receiver.idle();
    expect(texts(again)).toEqual(['one', 'two']);
    expect(shown(again)).toEqual(['one', 'two']);
  });

  it('applies leftovers before queue-empty even when no envelope arrives', async () => {
    const { alice, bob, bobPath } = pair('leftover');
    const { receiver } = receiverOf(bob);
    await receiver.process(await envelopeFor(alice, bob, textContent('left over', alice)));
    bob.close();
    open = open.filter((d) => d !== bob);

    const again = openBob(bobPath, alice);
    const { receiver: r2 } = receiverOf(again);
    let atQueueEmpty: string[] = [];
    r2.after(() => (atQueueEmpty = texts(again)));
    await r2.idle();
    expect(atQueueEmpty).toEqual(['left over']);
  });

  it('drops through the one settle path: no sender, undecryptable, not even a ciphertext — each acked once, reported', async () => {
    const { alice, bob } = pair();
    const { receiver, acks } = receiverOf(bob);
    const anonymous: ReceivedEnvelope = { guid: randomUUID(), type: EnvelopeType.Whisper, serverTimestamp: 1, content: new Uint8Array(3) };
    // A real ciphertext with a byte flipped: libsignal refuses it, a resend request is recorded.
    const real = await envelopeFor(alice, bob, textContent('tampered', alice));
    const bytes = Buffer.from(real.content);
    bytes[bytes.length - 12]! ^= 0xff;
    const tampered: ReceivedEnvelope = { ...real, timestamp: 77, content: new Uint8Array(bytes) };
    const garbage: ReceivedEnvelope = { ...real, guid: randomUUID(), content: new Uint8Array(6) };
    receiver.enqueue(anonymous);
    receiver.enqueue(tampered);
    receiver.enqueue(garbage);
    await receiver.idle();
    expect(acks).toEqual([anonymous.guid, tampered.guid, garbage.guid]);
    expect(errorCodes(bob)).toEqual(['UNSUPPORTED_ENVELOPE', 'DECRYPTION_FAILED']);
    expect(bob.events.filter((e) => e.event === 'decryption-error').map((e) => e.args[0])).toEqual([
      { accountId: alice.account.accountId, deviceId: 1, timestamp: 77 },
      { accountId: alice.account.accountId, deviceId: 1, timestamp: 0 },
    ]);
    expect(bob.data.countDecryptionErrors()).toBe(1);
    for (const e of [anonymous, tampered, garbage]) expect(bob.data.isProcessed(e.guid)).toBe(true);
    expect(texts(bob)).toEqual([]);
  });
});
