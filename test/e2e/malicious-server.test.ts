import { randomUUID } from 'node:crypto';
import {
  ContentHint,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SenderCertificate,
  ServerCertificate,
  UnidentifiedSenderMessageContent,
  processPreKeyBundle,
  sealedSenderEncrypt,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import { bundleFor } from '../../packages/sdk/src/sender.js';
import { MemorySignalStores } from '../../packages/server/src/test-support/signal-stores.js';
import { generateDeviceKeys, newIdentity, newRegistrationId } from '../../packages/server/src/test-support/keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type Envelope, type PreKeyBundleResponse } from '@kluis/protocol';
import { Client, IdentityChangedError, type OpenOptions } from '@kluis/sdk';
import { Harness, WithholdingProxy, type TestServer } from '../harness/index.js';
import { RewritingProxy } from '../harness/rewriting-proxy.js';
import { nextEvent, until } from '../../packages/sdk/src/testing/helpers.js';
import { internalsOf } from '@kluis/sdk/testing';

/*
 * The harness plays a compromised server: a man in the middle with the server's powers
 * (it answers every request and pushes every frame). Each drill prints what the server
 * did and what the client did about it.
 */
const h = new Harness();
let server: TestServer;
let proxy: RewritingProxy;
let mallory: Client;
let n = 0;

const report = (drill: string, server: string, client: string) => console.log(`drill ${drill}\n  server did: ${server}\n  client did: ${client}`);

async function user(base: string, o: Partial<OpenOptions> & { url?: string } = {}): Promise<Client> {
  const name = `${base}${n++}x${Date.now().toString(36)}`;
  const c = await Client.open({ profileDir: await h.tempDir(name), passphrase: h.passphrase, bootstrap: false, ...o });
  h.onDispose(() => c.close());
  c.on('error', () => {});
  const [invite] = await server.mintInvites(1);
  await c.register({ serverUrl: o.url ?? proxy.url, inviteCode: invite!, username: name });
  await c.connect();
  return c;
}

const has = async (c: Client, conversation: string, text: string) => (await c.messages.list({ conversation })).filter((m) => m.text === text).length;
const uname = (c: Client) => c.account!.username;
const id = (c: Client) => c.account!.accountId;

/** Two accounts that already talked both ways: sessions and trusted identity keys on both sides. */
async function pair(): Promise<[Client, Client]> {
  const alice = await user('alice');
  const bob = await user('bob');
  await alice.send(uname(bob), 'hello bob');
  await until('bob has it', async () => (await has(bob, uname(alice), 'hello bob')) === 1);
  await bob.send(uname(alice), 'hello alice');
  await until('alice has it', async () => (await has(alice, uname(bob), 'hello alice')) === 1);
  return [alice, bob];
}

/** Ciphertexts for `to`'s devices that left the client since `since` (socket frames and HTTP, identified or sealed). */
function sendsTo(to: Client, since: { frames: number; requests: number }): Array<{ deviceId: number }> {
  const bodies = [
    ...proxy.clientFrames.slice(since.frames).filter((f) => f.type === 'send' && f.destination === id(to)).map((f) => f.body),
    ...proxy.requests
      .slice(since.requests)
      .filter((r) => r.method === 'PUT' && (r.path === `/v1/messages/${id(to)}` || r.path === `/v1/sealed/${id(to)}`))
      .map((r) => JSON.parse(r.body) as unknown),
  ];
  return bodies.flatMap((b) => (b as { messages: Array<{ deviceId: number }> }).messages);
}

const mark = () => ({ frames: proxy.clientFrames.length, requests: proxy.requests.length });

/** Every send to `to` (over the socket or HTTP, identified or sealed) gets this answer instead of the server's, until `honest()`. */
function lieAboutSends(to: Client, status: number, body: unknown): void {
  const sendIds = new Set<unknown>();
  proxy.toServer = (f) => {
    if ((f.type === 'send' || f.type === 'sealed-send') && f.destination === id(to)) sendIds.add(f.id);
    return undefined;
  };
  proxy.toClient = (f) => (f.type === 'response' && sendIds.delete(f.id) ? { ...f, status, body } : undefined);
  proxy.respond = (x) => (x.method === 'PUT' && (x.path === `/v1/messages/${id(to)}` || x.path === `/v1/sealed/${id(to)}`) ? { status, body } : undefined);
}

function honest(): void {
  proxy.toServer = () => undefined;
  proxy.toClient = () => undefined;
  proxy.respond = () => undefined;
  proxy.mapPath = (_m, p) => p;
  proxy.rewriteResponse = () => undefined;
}

beforeAll(async () => {
  server = await h.startServer();
  proxy = await RewritingProxy.start(server.url);
  h.onDispose(() => proxy.close());
  mallory = await user('mallory');
});
afterAll(() => h.dispose());

describe('malicious-server drills', () => {
  it("(a) substitutes Bob's identity key in his prekey bundle → Alice refuses to send and reports a safety-number change", async () => {
    const [alice, bob] = await pair();
    const before = await alice.identity.safetyNumber(uname(bob));
    // The lie: "Bob's device 1 re-registered" (410), then Mallory's keys served as Bob's.
    lieAboutSends(bob, 410, { code: ErrorCode.StaleDevices, message: 'stale', staleDevices: [1] });
    let substituted: ReturnType<typeof mark> | undefined;
    proxy.mapPath = (m, p) => {
      if (m !== 'GET' || !p.startsWith(`/v1/keys/${id(bob)}/`)) return p;
      substituted ??= mark();
      return p.replace(id(bob), id(mallory));
    };
    const changed = nextEvent(alice, 'identity-changed');
    const err = await alice.send(uname(bob), 'the meeting is at nine').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityChangedError);
    expect((await changed)[0]).toMatchObject({ username: uname(bob), accountId: id(bob) });
    // Ciphertexts that left before the lie used the real session; none was made with the substituted keys.
    expect(substituted).toBeDefined();
    expect(sendsTo(bob, substituted!)).toEqual([]);
    expect(await alice.send(uname(bob), 'still blocked?').catch((e: unknown) => e)).toBeInstanceOf(IdentityChangedError);
    honest();
    expect(await alice.identity.safetyNumber(uname(bob))).toBe(before);
    report(
      '(a) identity key substitution',
      `answered Alice's send with 410 (stale device 1) and served Mallory's bundle (identity key and signed prekeys) as Bob's`,
      `refused: ${(err as Error).name} "${(err as Error).message}"; emitted 'identity-changed' for ${uname(bob)}; sends stay blocked until trust(); the safety number shown is still the verified one`,
    );
  });

  it("(b) adds a ghost device to Bob's device list with keys Bob's identity did not sign → refused and reported, nothing sent to it", async () => {
    const [alice, bob] = await pair();
    const bobIdentity = Buffer.from(internalsOf(bob).data.get<{ identityKeyPair: string }>('account')!.identityKeyPair, 'base64');
    // The lie: "Bob has a device 7" (409), and its bundle is Mallory's keys under Bob's identity key.
    lieAboutSends(bob, 409, { code: ErrorCode.MismatchedDevices, message: 'mismatched', missingDevices: [7], extraDevices: [] });
    proxy.mapPath = (m, p) => (m === 'GET' && p === `/v1/keys/${id(bob)}/7` ? `/v1/keys/${id(mallory)}/1` : p);
    const realIdentity = (await fetchIdentityKey(alice, bob)) ?? '';
    expect(realIdentity).not.toBe('');
    proxy.rewriteResponse = (x) => {
      if (x.path !== `/v1/keys/${id(bob)}/7` || x.status !== 200) return undefined;
      const b = JSON.parse(x.body.toString()) as PreKeyBundleResponse;
      return { identityKey: realIdentity, devices: b.devices.map((d) => ({ ...d, deviceId: 7 })) };
    };
    const errors: Error[] = [];
    alice.on('error', (e) => errors.push(e));
    const since = mark();
    const err = await alice.send(uname(bob), 'for bob only').catch((e: unknown) => e);
    honest();
    expect(err).toBeInstanceOf(Error);
    const toGhost = sendsTo(bob, since).filter((m) => m.deviceId === 7);
    expect(toGhost).toEqual([]);
    expect(bobIdentity.length).toBeGreaterThan(0);
    report(
      '(b) ghost device',
      `answered Alice's send with 409 (missing device 7) and served a bundle for device 7: Bob's identity key, Mallory's signed prekeys`,
      `refused: send rejected with ${(err as Error).name} "${(err as Error).message}"; ciphertexts for device 7: ${toGhost.length}`,
    );
  });

  it('(c) replays an old envelope, with its own guid and with a fresh one → shown once', async () => {
    const [alice, bob] = await pair();
    await alice.send(uname(bob), 'pay the invoice: 100 euro');
    await until('bob has it', async () => (await has(bob, uname(alice), 'pay the invoice: 100 euro')) === 1);
    // Incoming messages are stored under the server guid of their envelope.
    const guid = (await bob.messages.list({ conversation: uname(alice) })).find((m) => m.text === 'pay the invoice: 100 euro')!.id;
    const device = `${id(bob)}.1`;
    const env = proxy.pushed.get(device)!.map((f) => f.envelope as Envelope | undefined).find((e) => e?.guid === guid)!;
    expect(env).toBeDefined();
    const fresh = randomUUID();
    // Acks for the invented guid would confuse nobody, but a real server never sees them.
    proxy.toServer = (f) => (f.type === 'ack' ? (((f.guids as string[]).filter((g) => g !== fresh).length ? { ...f, guids: (f.guids as string[]).filter((g) => g !== fresh) } : null)) : undefined);
    proxy.push(device, { type: 'envelope', envelope: env });
    proxy.push(device, { type: 'envelope', envelope: { ...env, guid: fresh, serverTimestamp: Date.now() } });
    await new Promise((r) => setTimeout(r, 1000));
    proxy.toServer = () => undefined;
    expect(await has(bob, uname(alice), 'pay the invoice: 100 euro')).toBe(1);
    report('(c) replay', `pushed Bob's last envelope from Alice again twice: same guid, then a new guid and server timestamp`, `shown once (dedupe by guid; the reused ciphertext's message key is already spent)`);
  });

  it('(d) withholds a message → reported as missing, recovered by resend', async () => {
    const withholding = await WithholdingProxy.start(server.url);
    h.onDispose(() => withholding.close());
    const alice = await user('alice');
    const bob = await user('bob', { url: withholding.url, gapWindowMs: 300 });
    await alice.send(uname(bob), 'one');
    await until('one', async () => (await has(bob, uname(alice), 'one')) === 1);
    let drop = true;
    withholding.withhold = (e) => {
      // Only Alice writes to Bob here; a sealed envelope names no sender at all.
      if (drop && (e.sourceAccount === id(alice) || e.type === 6)) {
        drop = false;
        return true;
      }
      return false;
    };
    await alice.send(uname(bob), 'two (withheld)');
    const missing = nextEvent(bob, 'messages-missing');
    await alice.send(uname(bob), 'three');
    const [event] = await missing;
    expect(event).toMatchObject({ conversation: uname(alice), count: 1 });
    await until('recovered', async () => (await has(bob, uname(alice), 'two (withheld)')) === 1);
    expect(withholding.withheld).toHaveLength(1);
    report('(d) withholding', `acked one of Alice's envelopes itself (deleted it) and never pushed it to Bob`, `Bob reported 'messages-missing' (count ${event.count}) after the next message, asked Alice for a resend, and showed the message`);
  });

  it('(e) serves a forged sender certificate (not chained to the pinned trust root) → refused by sender and receiver', async () => {
    const [alice, bob] = await pair();
    // The server's own key pair, and a trust root of its own making: a certificate it could sign for anyone.
    const rogueRoot = PrivateKey.generate();
    const rogueServerKey = PrivateKey.generate();
    const rogueServerCert = ServerCertificate.new(7, rogueServerKey.getPublicKey(), rogueRoot);
    const forgedFor = (accountId: string, deviceId: number, identity: PublicKey) =>
      SenderCertificate.new(accountId, null, deviceId, identity, Date.now() + 86_400_000, rogueServerCert, rogueServerKey);

    // 1. Alice asks for her sender certificate and gets a forged one: she must not seal with it.
    const aliceIdentity = (await internalsOf(alice).adapters().identity.getIdentityKeyPair()).publicKey;
    proxy.respond = (x) =>
      x.method === 'GET' && x.path === '/v1/certificate/delivery'
        ? { status: 200, body: { certificate: Buffer.from(forgedFor(id(alice), 1, aliceIdentity).serialize()).toString('base64'), expiresAt: Date.now() + 86_400_000 } }
        : undefined;
    // Receipts still on their way may have fetched (and cached) an honest certificate: let them land, then forget it.
    await new Promise((r) => setTimeout(r, 500));
    internalsOf(alice).data.delete('senderCertificate');
    const since = mark();
    await alice.send(uname(bob), 'not with that certificate');
    honest();
    await until('bob has it', async () => (await has(bob, uname(alice), 'not with that certificate')) === 1);
    expect(proxy.requests.slice(since.requests).some((r) => r.path.startsWith('/v1/sealed/'))).toBe(false);

    // 2. The server pushes Bob a sealed message "from Alice" under its own certificate.
    const fake = newIdentity();
    const stores = new MemorySignalStores(fake, newRegistrationId(), generateDeviceKeys(fake, { preKeys: 1 }));
    const bundle = await internalsOf(alice).api().fetchBundles(id(bob), 1);
    const bobAddress = ProtocolAddress.new(id(bob), 1);
    await processPreKeyBundle(bundleFor(bundle.identityKey, bundle.devices[0]!), bobAddress, ProtocolAddress.new(id(alice), 1), stores.sessions, stores.identities);
    const inner = await signalEncrypt(new Uint8Array(32), bobAddress, ProtocolAddress.new(id(alice), 1), stores.sessions, stores.identities);
    const usmc = UnidentifiedSenderMessageContent.new(inner, forgedFor(id(alice), 1, fake.publicKey), ContentHint.Default, null);
    const sealed = await sealedSenderEncrypt(usmc, bobAddress, stores.identities);
    const refused = nextEvent(bob, 'error', (e) => (e as { code?: string }).code === 'FORGED_SENDER_CERTIFICATE');
    const before = (await bob.messages.list()).length;
    proxy.push(`${id(bob)}.1`, {
      type: 'envelope',
      envelope: { guid: randomUUID(), type: 6, timestamp: Date.now(), serverTimestamp: Date.now(), content: Buffer.from(sealed).toString('base64') },
    });
    await refused;
    expect((await bob.messages.list()).length).toBe(before);
    report(
      '(e) forged sender certificate',
      'handed Alice a sender certificate signed by a trust root of its own; pushed Bob a sealed message "from Alice" under such a certificate',
      'Alice refused the certificate and sent identified instead; Bob refused the message (FORGED_SENDER_CERTIFICATE) and showed nothing',
    );
  });
});

/** Bob's identity key as the (honest) server serves it, fetched with Alice's credentials. */
async function fetchIdentityKey(alice: Client, bob: Client): Promise<string | undefined> {
  const res = await fetch(new URL(`/v1/keys/${id(bob)}/*`, server.url), {
    headers: { authorization: authorizationOf(alice) },
  });
  if (!res.ok) return undefined;
  return ((await res.json()) as PreKeyBundleResponse).identityKey;
}

function authorizationOf(c: Client): string {
  const a = internalsOf(c).data.get<{ accountId: string; deviceId: number; password: string }>('account')!;
  return 'Basic ' + Buffer.from(`${a.accountId}.${a.deviceId}:${a.password}`).toString('base64');
}
