/**
 * One message, one id: every path that sends a message again — the socket dropping
 * mid-request (HTTP then), 409/410 reconciliation, a refused seal (identified then), the
 * user sending it again after an error or while it is in flight — carries the same
 * timestamp, and whoever gets a second copy of one (sender, timestamp) stores it once: the
 * peer, our other devices, and the sending device itself (issue 16: a first message shown
 * twice on both sides). Against the in-memory fake server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PrivateKey, SenderCertificate, ServerCertificate } from '@signalapp/libsignal-client';
import type { Client } from '../client.js';
import { NetworkError } from '../errors.js';
import { b64 } from '../keys.js';
import type { Bytes } from '../store/protocol-store.js';
import { acceptedBetween, connectAndDrain, FakeNetwork } from '../testing/fake-network.js';
import { until } from '../testing/helpers.js';
import { internalsOf, servicesOf } from '../testing/services.js';

const net = new FakeNetwork();
beforeAll(() => net.start());
afterEach(async () => {
  vi.restoreAllMocks();
  net.server.tamper = undefined;
  await net.closeClients();
});
afterAll(() => net.stop());

const list = (c: Client, conversation: string) => c.messages.list({ conversation });
const texts = async (c: Client, conversation: string) => (await list(c, conversation)).map((m) => m.text);

interface Encryption {
  accountId: string;
  timestamp: number;
  content: string;
  sealed: boolean;
}

/** Every encryption the client's sender makes (one per attempt), with the timestamp and content it was given. */
function recordEncryptions(client: Client): Encryption[] {
  const sender = servicesOf(client).sender;
  const original = sender.encryptFor.bind(sender);
  const seen: Encryption[] = [];
  vi.spyOn(sender, 'encryptFor').mockImplementation(async (accountId, content, timestamp, s) => {
    seen.push({ accountId, timestamp, content: Buffer.from(content).toString('hex'), sealed: s.seal !== undefined });
    return original(accountId, content, timestamp, s);
  });
  return seen;
}

/** Puts `content` in `client`'s inbox as if it had arrived from (account, device), and applies it. */
async function arrives(client: Client, from: { account: string; device: number }, content: Bytes): Promise<void> {
  const { receiver } = internalsOf(client);
  receiver.inbox.put({ guid: randomUUID(), sourceAccount: from.account, sourceDevice: from.device, serverTimestamp: Date.now(), sealed: false, viaSenderKey: false, content });
  await new Promise<void>((r) => receiver.after(r));
}

describe('every retry inside one send reuses its timestamp', () => {
  it('the socket drops after the server took the request: HTTP sends the same request again; bob stores it once', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    await alice.client.connect();
    let dropped = false;
    // The server queues it for bob, then alice's socket dies before the answer reaches her.
    net.server.tamper = (to, _device, env) => {
      if (to === bob.id && !dropped) {
        dropped = true;
        net.server.dropSocket(alice.name, 1);
      }
      return env;
    };

    const m = await alice.client.send(bob.name, 'over the socket, then HTTP');
    expect(dropped).toBe(true);
    const reqs = acceptedBetween(net.server, alice.id, bob.id).map((a) => a.req);
    expect(reqs.length).toBe(2);
    expect(reqs.map((r) => r.timestamp)).toEqual([m.timestamp, m.timestamp]);
    expect(reqs[1]!.messages).toEqual(reqs[0]!.messages);

    const got = await connectAndDrain(bob.client);
    expect(got.map((x) => [x.text, x.timestamp])).toEqual([['over the socket, then HTTP', m.timestamp]]);
    expect(await texts(bob.client, alice.name)).toEqual(['over the socket, then HTTP']);
    expect((await list(alice.client, bob.name)).map((x) => [x.id, x.status])).toEqual([[m.id, 'sent']]);
  });

  it('409 then 410: each attempt is encrypted again with the same timestamp and content', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    await alice.client.send(bob.name, 'before');
    const bob2 = await net.link(bob.client);
    // Bob's first device was reinstalled, as the server sees it: stale after the 409.
    const dev = net.server.account(bob.name).devices.get(1)!;
    dev.registrationId = (dev.registrationId % 16000) + 1;
    const seen = recordEncryptions(alice.client);
    const ctx = servicesOf(alice.client).ctx;
    const transmit = ctx.transmit.bind(ctx);
    const statuses: number[] = [];
    vi.spyOn(ctx, 'transmit').mockImplementation(async (accountId, req) => {
      const res = await transmit(accountId, req);
      if (accountId === bob.id) statuses.push(res.status);
      return res;
    });

    const m = await alice.client.send(bob.name, 'after');
    expect(statuses.slice(0, 2)).toEqual([409, 410]);
    expect(statuses.at(-1)).toBe(200);
    const toBob = seen.filter((e) => e.accountId === bob.id);
    expect(toBob.length).toBe(statuses.length);
    expect(new Set(toBob.map((e) => e.timestamp))).toEqual(new Set([m.timestamp]));
    expect(new Set(toBob.map((e) => e.content)).size).toBe(1);
    expect((await connectAndDrain(bob2)).map((x) => [x.text, x.timestamp])).toEqual([['after', m.timestamp]]);
    expect((await connectAndDrain(bob.client)).map((x) => x.text)).toEqual(['before', 'after']);
  });

  it('a refused seal (401) goes identified with the same timestamp and content; bob stores it once', async () => {
    const alice = await net.user('alice', { sealedSender: true });
    const bob = await net.user('bob', { sealedSender: true });
    plantCertificate(alice.client);
    // First contact: no profile key of bob's yet, so sealing is tried without a key and refused.
    const sealed = vi.spyOn(internalsOf(alice.client).api(), 'sendSealed').mockResolvedValue({ status: 401, body: { code: 'UNAUTHORIZED', message: 'no' } });
    const seen = recordEncryptions(alice.client);

    const m = await alice.client.send(bob.name, 'hi bob, this is alice');
    expect(sealed).toHaveBeenCalledTimes(1);
    const toBob = seen.filter((e) => e.accountId === bob.id);
    expect(toBob.map((e) => [e.sealed, e.timestamp])).toEqual([
      [true, m.timestamp],
      [false, m.timestamp],
    ]);
    expect(toBob[1]!.content).toBe(toBob[0]!.content);
    expect((await connectAndDrain(bob.client)).map((x) => [x.text, x.timestamp])).toEqual([['hi bob, this is alice', m.timestamp]]);
  });
});

describe('sending one message again (same id) is that message, not a second one', () => {
  it('after an error although bob got it: the retry has the first timestamp; one message on both sides', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    const ctx = servicesOf(alice.client).ctx;
    const transmit = ctx.transmit.bind(ctx);
    // The server stores it for bob; the answer never reaches alice (outcome unknown to her).
    vi.spyOn(ctx, 'transmit').mockImplementationOnce(async (accountId, req) => {
      await transmit(accountId, req);
      throw new NetworkError('the answer was lost');
    });
    const id = randomUUID();

    await expect(alice.client.send(bob.name, 'hi bob', { id })).rejects.toBeInstanceOf(NetworkError);
    const failed = await list(alice.client, bob.name);
    expect(failed.map((x) => [x.id, x.status])).toEqual([[id, 'failed']]);
    // The page keeps the text and the id; the user presses Enter again.
    const again = await alice.client.send(bob.name, 'hi bob', { id });
    expect(again).toMatchObject({ id, timestamp: failed[0]!.timestamp, status: 'sent' });
    expect((await list(alice.client, bob.name)).map((x) => [x.id, x.status])).toEqual([[id, 'sent']]);

    const got = await connectAndDrain(bob.client);
    expect(got.map((x) => [x.text, x.timestamp])).toEqual([['hi bob', again.timestamp]]);
    expect(await texts(bob.client, alice.name)).toEqual(['hi bob']);
    // Sent once more, it is left as it is.
    expect(await alice.client.send(bob.name, 'hi bob', { id })).toMatchObject({ id, status: 'sent' });
    expect(acceptedBetween(net.server, alice.id, bob.id).length).toBe(2);
  });

  it('twice while the first is in flight: one send, one message', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    const id = randomUUID();
    const [a, b] = await Promise.all([alice.client.send(bob.name, 'double click', { id }), alice.client.send(bob.name, 'double click', { id })]);
    expect(a).toEqual(b);
    expect(a.id).toBe(id);
    expect(acceptedBetween(net.server, alice.id, bob.id).length).toBe(1);
    expect((await list(alice.client, bob.name)).length).toBe(1);
    await connectAndDrain(bob.client);
    expect(await texts(bob.client, alice.name)).toEqual(['double click']);
  });

  it('an id is a lowercase UUID, and names one of our messages in that conversation only', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    const carol = await net.user('carol');
    await expect(alice.client.send(bob.name, 'x', { id: 'not-a-uuid' })).rejects.toMatchObject({ code: 'BAD_MESSAGE_ID' });
    const m = await alice.client.send(bob.name, 'to bob', { id: randomUUID() });
    await expect(alice.client.send(carol.name, 'to carol', { id: m.id })).rejects.toMatchObject({ code: 'NOT_YOURS' });
    expect(acceptedBetween(net.server, alice.id, carol.id).length).toBe(0);
  });

  it('a delivered message whose copy for our other devices fails stays sent (sent again, it would show twice)', async () => {
    const alice = await net.user('alice');
    const alice2 = await net.link(alice.client);
    const bob = await net.user('bob');
    const ctx = servicesOf(alice.client).ctx;
    const transmit = ctx.transmit.bind(ctx);
    vi.spyOn(ctx, 'transmit').mockImplementation(async (accountId, req) => {
      if (accountId === alice.id) throw new NetworkError('offline for the sync copy');
      return transmit(accountId, req);
    });
    const errors: Error[] = [];
    alice.client.on('error', (e) => errors.push(e));

    const m = await alice.client.send(bob.name, 'reached bob');
    expect(m.status).toBe('sent');
    expect((await list(alice.client, bob.name)).map((x) => x.status)).toEqual(['sent']);
    expect(errors.map((e) => e.message)).toContain('offline for the sync copy');
    await connectAndDrain(bob.client);
    expect(await texts(bob.client, alice.name)).toEqual(['reached bob']);
    await alice2.close();
  });
});

describe('a second copy of one (sender, timestamp) is stored and shown once', () => {
  it('bob: a copy in another envelope changes nothing, not even the timer it carried', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    const carol = await net.user('carol');
    await connectAndDrain(bob.client);
    await alice.client.conversations.setTimer(bob.name, 60);
    const old = await alice.client.send(bob.name, 'with a timer');
    await alice.client.conversations.setTimer(bob.name, 0);
    const timerOf = async () => (await bob.client.conversations.list()).find((c) => c.id === alice.name)?.expireTimer;
    await until('bob has the timer off', async () => (await list(bob.client, alice.name)).length === 3 && (await timerOf()) === 0);
    const shown: string[] = [];
    bob.client.on('message', (x) => shown.push(x.text ?? x.kind));

    // The same contents again, encrypted anew (another envelope): a resend, a retry.
    const { data, sender } = internalsOf(alice.client);
    const rows = await list(alice.client, bob.name);
    for (const r of rows.slice(0, 2)) await sender.sendToAccount(bob.id, data.getSentContent(r.timestamp, bob.id)!.content, r.timestamp);
    // Bob applies in arrival order: once carol's message is there, so are the copies.
    await carol.client.send(bob.name, 'after the copies');
    await until('bob has carol’s', async () => (await texts(bob.client, carol.name)).length === 1);
    expect((await list(bob.client, alice.name)).map((x) => (x.kind === 'text' ? x.text : x.kind))).toEqual(['timer', 'with a timer', 'timer']);
    expect((await list(bob.client, alice.name))[1]!.timestamp).toBe(old.timestamp);
    expect(shown).toEqual(['after the copies']);
    expect(await timerOf()).toBe(0);
  });

  it('our other device: a sync copy that comes twice is one message', async () => {
    const alice = await net.user('alice');
    const alice2 = await net.link(alice.client);
    const bob = await net.user('bob');
    await connectAndDrain(alice2);
    const m = await alice.client.send(bob.name, 'from the first device');
    await until('alice2 has the sync copy', async () => (await texts(alice2, bob.name)).length === 1);
    const sync = internalsOf(alice.client).data.getSentContent(m.timestamp, alice.id)!.content;

    await arrives(alice2, { account: alice.id, device: 1 }, sync);
    expect((await list(alice2, bob.name)).map((x) => [x.text, x.timestamp, x.direction])).toEqual([['from the first device', m.timestamp, 'outgoing']]);
  });

  it('the sending device: its own message coming back (a sync copy of it) is the same message', async () => {
    const alice = await net.user('alice');
    await net.link(alice.client);
    const bob = await net.user('bob');
    const m = await alice.client.send(bob.name, 'mine');
    const sync = internalsOf(alice.client).data.getSentContent(m.timestamp, alice.id)!.content;

    await arrives(alice.client, { account: alice.id, device: 1 }, sync);
    expect((await list(alice.client, bob.name)).map((x) => [x.id, x.text])).toEqual([[m.id, 'mine']]);
  });
});

/** A sender certificate for `client`, cached as if the server had issued it (the fake server has no sealed sender). */
function plantCertificate(client: Client): void {
  const ctx = servicesOf(client).ctx;
  const me = ctx.me();
  const root = PrivateKey.generate();
  const serverKey = PrivateKey.generate();
  const server = ServerCertificate.new(1, serverKey.getPublicKey(), root);
  const expiresAt = Date.now() + 7 * 86400_000;
  const cert = SenderCertificate.new(me.accountId, null, me.deviceId, me.identityKeyPair.publicKey, expiresAt, server, serverKey);
  ctx.data.set('trustRoot', b64(root.getPublicKey().serialize()));
  ctx.data.set('senderCertificate', { certificate: b64(cert.serialize()), expiresAt });
}
