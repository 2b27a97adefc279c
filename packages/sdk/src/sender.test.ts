/**
 * The send pipeline (sender.ts) against the in-memory fake server: fan-out to every device
 * of an account, reconciliation on 409 and 410, identity changes, the sealed-or-identified
 * choice and the bound on retries. What reaches the wire is read from the fake server's
 * accepted requests and a recording of ctx.transmit; what arrives is read on the recipients.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PrivateKey, SenderCertificate, ServerCertificate, SessionRecord, sealedSenderDecryptToUsmc } from '@signalapp/libsignal-client';
import { EnvelopeType, type SendRequest } from '@kluis/protocol';
import type { Client } from './client.js';
import { IdentityChangedError } from './errors.js';
import { b64, unb64 } from './keys.js';
import { deriveAccessKey } from './sealed/sealed-sender.js';
import { accountSendState, applyStale, MAX_SEND_ATTEMPTS, Sender } from './sender.js';
import type { Ctx } from './context.js';
import { acceptedBetween, connectAndDrain, FakeNetwork } from './testing/fake-network.js';
import { nextEvent } from './testing/helpers.js';
import { internalsOf, servicesOf } from './testing/services.js';

const net = new FakeNetwork();
beforeAll(() => net.start());
afterEach(async () => {
  vi.restoreAllMocks();
  await net.closeClients();
});
afterAll(() => net.stop());

interface Transmitted {
  accountId: string;
  req: SendRequest;
  status: number;
}

/** Every identified send the client makes (socket or HTTP), with the server's answer. */
function recordTransmits(client: Client): Transmitted[] {
  const ctx = servicesOf(client).ctx;
  const original = ctx.transmit.bind(ctx);
  const seen: Transmitted[] = [];
  vi.spyOn(ctx, 'transmit').mockImplementation(async (accountId, req) => {
    const res = await original(accountId, req);
    seen.push({ accountId, req, status: res.status });
    return res;
  });
  return seen;
}

/** Connects `client`, waits for its backlog to be applied, and returns the texts it showed. */
const received = async (client: Client) => (await connectAndDrain(client)).map((m) => m.text);
const accepted = (from: string, to: string) => acceptedBetween(net.server, from, to);
const devicesOf = (req: SendRequest) => req.messages.map((m) => m.deviceId);

describe('Sender.sendToAccount', () => {
  it('one message to an account with two devices reaches each exactly once', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    const bob2 = await net.link(bob.client);
    const sent = recordTransmits(alice.client);

    await alice.client.send(bob.name, 'to both bobs');
    // First contact: bundles for every device, one request with a ciphertext for each.
    expect(sent.map((s) => [s.accountId, s.status])).toEqual([[bob.id, 200]]);
    expect(devicesOf(sent[0]!.req)).toEqual([1, 2]);
    expect(sent[0]!.req.messages.map((m) => m.type)).toEqual([EnvelopeType.PreKey, EnvelopeType.PreKey]);
    expect(await received(bob.client)).toEqual(['to both bobs']);
    expect(await received(bob2)).toEqual(['to both bobs']);
  });

  it('a device added after the session was built (409 missing) is reconciled, retried and gets the message', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    await alice.client.send(bob.name, 'before the link');
    const bob2 = await net.link(bob.client);
    const sent = recordTransmits(alice.client);
    const bundles = vi.spyOn(internalsOf(alice.client).api(), 'fetchBundles');

    await alice.client.send(bob.name, 'after the link');
    expect(sent.map((s) => s.status)).toEqual([409, 200]);
    expect(devicesOf(sent[0]!.req)).toEqual([1]);
    expect(devicesOf(sent[1]!.req)).toEqual([1, 2]);
    // Only the new device needed a bundle: the session with bob.1 goes on.
    expect(bundles.mock.calls).toEqual([[bob.id, 2]]);
    expect(accepted(alice.id, bob.id).length).toBe(2);
    expect(await received(bob2)).toEqual(['after the link']);
    expect(await received(bob.client)).toEqual(['before the link', 'after the link']);
  });

  it('a removed device (409 extra) loses its session and the rest still get the message', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    await net.link(bob.client);
    await alice.client.send(bob.name, 'to both');
    const store = internalsOf(alice.client).store;
    expect(store.getSession(`${bob.id}.2`)).toBeDefined();
    await bob.client.devices.remove(2);
    const sent = recordTransmits(alice.client);

    await alice.client.send(bob.name, 'to one');
    expect(sent.map((s) => [devicesOf(s.req), s.status])).toEqual([
      [[1, 2], 409],
      [[1], 200],
    ]);
    expect(store.getSession(`${bob.id}.2`)).toBeUndefined();
    expect(await received(bob.client)).toEqual(['to both', 'to one']);
  });

  it('a stale device (410) has its session dropped and rebuilt from a fresh bundle, then gets the message', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    await alice.client.send(bob.name, 'one');
    const store = internalsOf(alice.client).store;
    const session = () => SessionRecord.deserialize(store.getSession(`${bob.id}.1`)!);
    const dev = net.server.account(bob.name).devices.get(1)!;
    const oldReg = dev.registrationId;
    expect(session().remoteRegistrationId()).toBe(oldReg);
    // The server now knows another registration id for bob.1: what a reinstall looks like to it.
    dev.registrationId = (oldReg % 16000) + 1;
    const sent = recordTransmits(alice.client);
    const bundles = vi.spyOn(internalsOf(alice.client).api(), 'fetchBundles');

    await alice.client.send(bob.name, 'two');
    expect(sent.map((s) => s.status)).toEqual([410, 200]);
    expect(bundles).toHaveBeenCalledTimes(1);
    expect(sent[0]!.req.messages.map((m) => m.registrationId)).toEqual([oldReg]);
    expect(sent[1]!.req.messages.map((m) => m.registrationId)).toEqual([dev.registrationId]);
    expect(session().remoteRegistrationId()).toBe(dev.registrationId);
    expect(await received(bob.client)).toEqual(['one', 'two']);
  });

  it('an identity change throws IdentityChangedError and nothing is accepted', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    await alice.client.send(bob.name, 'one');
    await bob.client.reregister();
    const before = accepted(alice.id, bob.id).length;
    const changed = nextEvent(alice.client, 'identity-changed');
    const sender = internalsOf(alice.client).sender;
    const content = new TextEncoder().encode('never sent') as Uint8Array<ArrayBuffer>;

    const err = await sender.sendToAccount(bob.id, content, Date.now(), { username: bob.name }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityChangedError);
    expect(err).toMatchObject({ code: 'IDENTITY_CHANGED', accountId: bob.id });
    expect((await changed)[0]).toEqual({ username: bob.name, accountId: bob.id });
    expect(accepted(alice.id, bob.id).length).toBe(before);
    expect(internalsOf(alice.client).store.getIdentity(bob.id)?.status).toBe('changed-pending');
    // Still refused on the next try, without a new event.
    await expect(sender.sendToAccount(bob.id, content, Date.now())).rejects.toBeInstanceOf(IdentityChangedError);
    expect(accepted(alice.id, bob.id).length).toBe(before);
  });

  it('gives up after MAX_SEND_ATTEMPTS when the device list keeps changing', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    await alice.client.send(bob.name, 'one');
    const ctx = servicesOf(alice.client).ctx;
    const spy = vi.spyOn(ctx, 'transmit').mockImplementation(async (_a, req) => ({
      status: 410,
      body: { code: 'STALE_DEVICES', message: 'stale', staleDevices: req.messages.map((m) => m.deviceId) },
    }));
    const content = new TextEncoder().encode('x') as Uint8Array<ArrayBuffer>;

    await expect(internalsOf(alice.client).sender.sendToAccount(bob.id, content, Date.now())).rejects.toMatchObject({ code: 'DEVICES_CHANGING' });
    expect(spy).toHaveBeenCalledTimes(MAX_SEND_ATTEMPTS);
  });

  it('runs withCommit once, with the first encryption, even across retries', async () => {
    const alice = await net.user('alice');
    const bob = await net.user('bob');
    await alice.client.send(bob.name, 'one');
    await net.link(bob.client);
    const sent = recordTransmits(alice.client);
    const commit = vi.fn();
    const content = new TextEncoder().encode('x') as Uint8Array<ArrayBuffer>;

    const ts = await internalsOf(alice.client).sender.sendToAccount(bob.id, content, Date.now(), { withCommit: commit });
    expect(sent.map((s) => s.status)).toEqual([409, 200]);
    expect(commit).toHaveBeenCalledTimes(1);
    expect(ts).toBeTypeOf('number');
  });
});

describe('sealed or identified', () => {
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

  /** Alice holds a certificate and bob's profile key (so his access key); both sealing. */
  async function sealingPair() {
    const alice = await net.user('alice', { sealedSender: true });
    const bob = await net.user('bob', { sealedSender: true });
    plantCertificate(alice.client);
    const bobKey = servicesOf(bob.client).convo.messenger.profileKey()!;
    internalsOf(alice.client).conv.putProfileKey(bob.id, bobKey);
    return { alice, bob, accessKey: deriveAccessKey(bobKey) };
  }

  it('with sealing set and an access key known, the send goes to the sealed path and only bob can open it', async () => {
    const { alice, bob, accessKey } = await sealingPair();
    const api = internalsOf(alice.client).api();
    const sealed = vi.spyOn(api, 'sendSealed').mockResolvedValue({ status: 200, body: { serverTimestamp: 1234 } });
    const identified = recordTransmits(alice.client);

    const m = await alice.client.send(bob.name, 'sealed hello');
    expect(m).toMatchObject({ status: 'sent', serverTimestamp: 1234 });
    expect(identified).toEqual([]);
    expect(sealed).toHaveBeenCalledTimes(1);
    const [to, req, key] = sealed.mock.calls[0]!;
    expect(to).toBe(bob.id);
    expect(Buffer.from(key).equals(Buffer.from(accessKey))).toBe(true);
    // No wire timestamp, no sender: only the envelope type says "sealed".
    expect(req.timestamp).toBeUndefined();
    expect(req.messages.map((x) => x.type)).toEqual([EnvelopeType.Sealed]);
    const usmc = await sealedSenderDecryptToUsmc(unb64(req.messages[0]!.content), internalsOf(bob.client).adapters().identity);
    expect(usmc.senderCertificate().senderUuid()).toBe(alice.id);
    expect(usmc.msgType()).toBe(EnvelopeType.PreKey);
  });

  it('a refused key (401) sends identified at once, and the next sends skip the sealed path', async () => {
    const { alice, bob } = await sealingPair();
    const sealed = vi.spyOn(internalsOf(alice.client).api(), 'sendSealed').mockResolvedValue({ status: 401, body: { code: 'UNAUTHORIZED', message: 'no' } });
    const identified = recordTransmits(alice.client);

    await alice.client.send(bob.name, 'first');
    await alice.client.send(bob.name, 'second');
    expect(sealed).toHaveBeenCalledTimes(1);
    expect(identified.map((s) => [s.accountId, s.status])).toEqual([
      [bob.id, 200],
      [bob.id, 200],
    ]);
    expect(identified.every((s) => s.req.messages.every((x) => x.type !== EnvelopeType.Sealed))).toBe(true);
    expect(await received(bob.client)).toEqual(['first', 'second']);
  });

  it('identified: true never asks for sealing material', async () => {
    const { alice, bob } = await sealingPair();
    const sealing = servicesOf(alice.client).sender.sealing!;
    const material = vi.spyOn(sealing, 'material');
    const identified = recordTransmits(alice.client);
    const content = new TextEncoder().encode('x') as Uint8Array<ArrayBuffer>;

    await internalsOf(alice.client).sender.sendToAccount(bob.id, content, Date.now(), { identified: true });
    expect(material).not.toHaveBeenCalled();
    expect(identified.map((s) => s.status)).toEqual([200]);
  });
});

describe('send state', () => {
  it('accountSendState copies what it is given; applyStale marks sessions to rebuild', () => {
    const only = [2, 3];
    const s = accountSendState(false, { only, fresh: [4], username: 'bob' });
    only.push(9);
    expect(s).toMatchObject({ own: false, only: [2, 3], username: 'bob' });
    expect([...s.fresh]).toEqual([4]);
    applyStale(s, [2, 5]);
    expect([...s.fresh].sort()).toEqual([2, 4, 5]);
    expect(s.add.size + s.remove.size).toBe(0);
  });

  it("applyMismatch: the server's list wins, and a resend drops devices that are gone", () => {
    const sender = new Sender({} as Ctx);
    const s = accountSendState(false, { only: [1, 2] });
    s.remove.add(3);
    sender.applyMismatch(s, [3], [2]);
    expect([...s.add]).toEqual([3]);
    expect([...s.fresh]).toEqual([3]);
    expect([...s.remove]).toEqual([2]);
    expect(s.only).toEqual([1]);
  });

  it('applyMismatch on our own account updates our device list (and keeps this device)', async () => {
    const alice = await net.user('alice');
    const ctx = servicesOf(alice.client).ctx;
    ctx.setOwnDevices([1, 2]);
    internalsOf(alice.client).sender.applyMismatch(accountSendState(true), [3], [2, 1]);
    expect(ctx.ownDevices().sort()).toEqual([1, 3]);
  });
});
