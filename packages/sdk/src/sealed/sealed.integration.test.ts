/**
 * Sealed sender against the real server: once profile keys are exchanged, 1:1 and group
 * messages reach the server with no sender (the envelope rows say so), receivers still
 * know who wrote them, and a certificate not chained to the pinned trust root is refused.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  PrivateKey,
  ProtocolAddress,
  SenderCertificate,
  ServerCertificate,
  ContentHint,
  UnidentifiedSenderMessageContent,
  sealedSenderEncrypt,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import SealedSenderMultiRecipientMessage from '@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import { EnvelopeType, encodeContent } from '@kluis/protocol';
import { Harness, type TestServer } from '../../../../test/harness/index.js';
import { connectedUser, linkDevice } from '../../../../test/harness/sdk-helpers.js';
import type { Client } from '../client.js';
import { b64 } from '../keys.js';
import { nextEvent, until } from '../testing/helpers.js';
import { deriveAccessKey } from './sealed-sender.js';
import { internalsOf } from '../testing/services.js';

const h = new Harness();
let server: TestServer;
let n = 0;

beforeAll(async () => {
  server = await h.startServer();
});
afterAll(() => h.dispose());

async function user(base: string): Promise<{ c: Client; name: string; id: string }> {
  const name = `${base}${n++}`;
  const c = await connectedUser(h, server, name);
  return { c, name, id: c.account!.accountId };
}

/** Envelope rows waiting for an account, straight from the server's database file. */
function queued(accountId: string): Array<{ type: number; source_account: string | null; source_device: number | null }> {
  const db = new Database(join(server.dataDir, 'kluis.db'), { readonly: true });
  try {
    return db.prepare('SELECT type, source_account, source_device FROM envelopes WHERE account_id = ?').all(accountId) as never;
  } finally {
    db.close();
  }
}

/** Every envelope row of these accounts: what a seized database would show. */
function rowsOf(...accountIds: string[]): Array<{ account_id: string; device_id: number; type: number; source_account: string | null; timestamp: number }> {
  const db = new Database(join(server.dataDir, 'kluis.db'), { readonly: true });
  try {
    return db
      .prepare(`SELECT account_id, device_id, type, source_account, timestamp FROM envelopes WHERE account_id IN (${accountIds.map(() => '?').join(',')})`)
      .all(...accountIds) as never;
  } finally {
    db.close();
  }
}

const texts = async (c: Client, conversation: string) => (await c.messages.list({ conversation })).filter((m) => m.kind === 'text').map((m) => m.text);

describe('sealed sender', () => {
  it('1:1 and group messages carry no sender once profile keys are exchanged', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    // First contact names its sender (no profile key yet); the replies carry the keys.
    await alice.c.send(bob.name, 'hi bob');
    await until('bob has it', async () => (await texts(bob.c, alice.name)).includes('hi bob'));
    await bob.c.send(alice.name, 'hi alice');
    await until('alice has it', async () => (await texts(alice.c, bob.name)).includes('hi alice'));
    await carol.c.send(alice.name, 'hi alice from carol');
    await carol.c.send(bob.name, 'hi bob from carol');
    await until('keys spread', async () => (await texts(alice.c, carol.name)).length === 1 && (await texts(bob.c, carol.name)).length === 1);
    await alice.c.send(carol.name, 'hi carol');
    await bob.c.send(carol.name, 'hi carol from bob');
    await until('carol has both', async () => (await texts(carol.c, alice.name)).includes('hi carol') && (await texts(carol.c, bob.name)).includes('hi carol from bob'));

    const conv = await alice.c.groups.create('Sealed', [bob.name, carol.name]);
    for (const c of [bob.c, carol.c]) await until('group known', async () => (await c.groups.find(conv)) !== undefined);
    await alice.c.send(conv, 'group hello');
    for (const c of [bob.c, carol.c]) await until('group message', async () => (await texts(c, conv)).includes('group hello'));

    // Bob goes offline: what waits for him on the server names nobody.
    await bob.c.close();
    await alice.c.send(bob.name, 'a sealed one');
    await alice.c.send(conv, 'a sealed group one');
    await carol.c.send(conv, 'from carol to the group');
    const rows = queued(bob.id);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.every((r) => r.type === EnvelopeType.Sealed && r.source_account === null && r.source_device === null)).toBe(true);

    const { Client } = await import('../client.js');
    const bobAgain = await Client.open({ profileDir: bob.c.profileDir, passphrase: h.passphrase, bootstrap: false });
    h.onDispose(() => bobAgain.close());
    const empty = nextEvent(bobAgain, 'queue-empty');
    await bobAgain.connect();
    await empty;
    await until('bob read everything', async () => (await texts(bobAgain, conv)).includes('from carol to the group'));
    const got = await bobAgain.messages.list();
    expect(got.find((m) => m.text === 'a sealed one')?.from.accountId).toBe(alice.id);
    expect(got.find((m) => m.text === 'from carol to the group')?.from.accountId).toBe(carol.id);
  }, 90_000);

  it('sync copies go sealed with no timestamp, and a group fan-out lists the sender’s own account (its other devices, or none)', async () => {
    const [alice, bob, carol] = [await user('alice'), await user('bob'), await user('carol')];
    const { Client } = await import('../client.js');
    const laptop = await Client.open({ profileDir: await h.tempDir(`${alice.name}-laptop`), passphrase: h.passphrase, bootstrap: false });
    h.onDispose(() => laptop.close());
    await linkDevice(alice.c, laptop, server.url);
    await laptop.connect();
    for (const [from, to] of [[alice, bob], [bob, alice], [carol, alice], [carol, bob], [alice, carol], [bob, carol]] as const) {
      await from.c.send(to.name, `hi ${to.name}`);
      await until(`${to.name} has it`, async () => (await texts(to.c, from.name)).includes(`hi ${to.name}`));
    }
    const conv = await alice.c.groups.create('Joins', [bob.name, carol.name]);
    for (const c of [bob.c, carol.c, laptop]) await until('group known', async () => (await c.groups.find(conv)) !== undefined);
    await alice.c.send(conv, 'keys out');
    for (const c of [bob.c, carol.c, laptop]) await until('group message', async () => (await texts(c, conv)).includes('keys out'));

    // The laptop and bob offline: what the sends leave at rest.
    await laptop.close();
    await bob.c.close();
    // The transport, not the HTTP API: sealed sends go over the sealed socket while it is open.
    const aliceTransport = internalsOf(alice.c).transport();
    const sealedMulti = vi.spyOn(aliceTransport, 'sendSealedMulti');
    const identified = vi.spyOn(aliceTransport, 'sendMulti');
    await alice.c.send(bob.name, 'one to one');
    await alice.c.send(conv, 'to the group');
    const rows = rowsOf(alice.id, bob.id);
    const laptopId = 2;
    // The sync copies (1:1 and group) wait for the laptop, sealed like bob's: no sender, no timestamp.
    expect(rows.filter((r) => r.account_id === alice.id && r.device_id === laptopId).length).toBeGreaterThanOrEqual(2);
    expect(rows.filter((r) => r.account_id === bob.id).length).toBeGreaterThanOrEqual(2);
    expect(rows.every((r) => r.type === EnvelopeType.Sealed && r.source_account === null && Number(r.timestamp) === 0)).toBe(true);
    // The group message was one sealed upload naming all three accounts; no identified copy beside it.
    // (It has no timestamp: neither the socket frame nor PUT /v1/sealed as the SDK sends it carries one.)
    const upload = new SealedSenderMultiRecipientMessage(Buffer.from(sealedMulti.mock.calls.at(-1)![0]));
    expect(new Set(Object.keys(upload.recipientsByServiceIdString()))).toEqual(new Set([alice.id, bob.id, carol.id]));
    expect(identified).not.toHaveBeenCalled();

    // Carol has no other device: her account is in the upload's excluded recipients.
    const carolMulti = vi.spyOn(internalsOf(carol.c).transport(), 'sendSealedMulti');
    await carol.c.send(conv, 'from carol');
    const fromCarol = new SealedSenderMultiRecipientMessage(Buffer.from(carolMulti.mock.calls.at(-1)![0]));
    expect(Object.keys(fromCarol.recipientsByServiceIdString()).sort()).toEqual([alice.id, bob.id].sort());
    expect(fromCarol.excludedRecipientServiceIdStrings()).toEqual([carol.id]);
    expect(carolMulti.mock.results.at(-1)?.type).toBe('return');
    expect((await carolMulti.mock.results.at(-1)!.value).status).toBe(200);

    // The laptop opens the sealed sync copies: they are its own account's.
    const laptopAgain = await Client.open({ profileDir: laptop.profileDir, passphrase: h.passphrase, bootstrap: false });
    h.onDispose(() => laptopAgain.close());
    await laptopAgain.connect();
    await until('laptop has the sync copies', async () => (await texts(laptopAgain, bob.name)).includes('one to one') && (await texts(laptopAgain, conv)).includes('to the group'));
    const synced = (await laptopAgain.messages.list()).find((m) => m.text === 'one to one');
    expect(synced?.from.accountId).toBe(alice.id);
  }, 120_000);

  it('a device the sender did not know yet gets its copy: the sealed send left it out (200, skipped) and the sender follows up', async () => {
    const [alice, bob] = [await user('alice'), await user('bob')];
    await alice.c.send(bob.name, 'hi');
    await until('bob', async () => (await texts(bob.c, alice.name)).includes('hi'));
    await bob.c.send(alice.name, 'hello');
    await until('alice', async () => (await texts(alice.c, bob.name)).includes('hello'));
    const { Client } = await import('../client.js');
    const bob2 = await Client.open({ profileDir: await h.tempDir(`${bob.name}-2`), passphrase: h.passphrase, bootstrap: false });
    h.onDispose(() => bob2.close());
    await linkDevice(bob.c, bob2, server.url);
    await bob2.connect();
    const sealed = vi.spyOn(internalsOf(alice.c).transport(), 'sendSealed');
    await alice.c.send(bob.name, 'to both of bob’s devices');
    await until('bob2 has it', async () => (await texts(bob2, alice.name)).includes('to both of bob’s devices'));
    // One sealed send to the device alice knew, one to the new device only (a resend-style subset).
    const bodies = sealed.mock.calls.map((c) => c[1]);
    expect(bodies.map((b) => [b.messages.map((m) => m.deviceId), b.resend === true, 'timestamp' in b])).toEqual([
      [[1], false, false],
      [[2], true, false],
    ]);
  }, 90_000);

  it('refuses a sealed message whose certificate is not chained to the pinned trust root', async () => {
    const alice = await user('alice');
    const mallory = await user('mallory');
    await alice.c.send(mallory.name, 'hello');
    await until('mallory has it', async () => (await texts(mallory.c, alice.name)).includes('hello'));
    await mallory.c.send(alice.name, 'first, honestly');
    await until('alice has it', async () => (await texts(alice.c, mallory.name)).includes('first, honestly'));

    // Mallory seals a message with a certificate from a trust root of her own.
    const rogueRoot = PrivateKey.generate();
    const rogueServer = PrivateKey.generate();
    const rogueCert = ServerCertificate.new(1, rogueServer.getPublicKey(), rogueRoot);
    const m = internalsOf(mallory.c);
    const me = mallory.c.account!;
    const ad = m.adapters();
    const forged = SenderCertificate.new(me.accountId, null, me.deviceId, (await ad.identity.getIdentityKeyPair()).publicKey, Date.now() + 86400_000, rogueCert, rogueServer);
    const to = ProtocolAddress.new(alice.id, 1);
    const content = encodeContent({ body: { case: 'data', value: { timestamp: BigInt(Date.now()), counter: 9n, senderUsername: mallory.name, text: 'forged' } } });
    const ct = await signalEncrypt(content, to, ProtocolAddress.new(me.accountId, me.deviceId), ad.sessions, ad.identity);
    const sealed = await sealedSenderEncrypt(UnidentifiedSenderMessageContent.new(ct, forged, ContentHint.Default, null), to, ad.identity);
    const aliceKey = m.conv.getProfile(alice.id)!.profileKey!;
    const error = nextEvent(alice.c, 'error', (e) => (e as { code?: string }).code === 'FORGED_SENDER_CERTIFICATE');
    const res = await internalsOf(mallory.c).api().sendSealed(
      alice.id,
      { timestamp: Date.now(), messages: [{ deviceId: 1, registrationId: await internalsOf(alice.c).adapters().identity.getLocalRegistrationId(), type: EnvelopeType.Sealed, content: b64(sealed) }] },
      deriveAccessKey(aliceKey),
    );
    expect(res.status).toBe(200);
    await error;
    expect(await texts(alice.c, mallory.name)).not.toContain('forged');
  }, 60_000);

  it('after a re-registration, sealed messages carry a certificate for the new identity', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.c.send(bob.name, 'hi');
    await until('bob', async () => (await texts(bob.c, alice.name)).includes('hi'));
    await bob.c.send(alice.name, 'hello');
    await until('alice', async () => (await texts(alice.c, bob.name)).includes('hello'));
    await bob.c.send(alice.name, 'sealed before');
    await until('alice again', async () => (await texts(alice.c, bob.name)).includes('sealed before'));
    await bob.c.reregister();
    await bob.c.send(alice.name, 'sealed after');
    await until('alice got it', async () => (await texts(alice.c, bob.name)).includes('sealed after'));
  }, 60_000);

  it('a group send still reaches everyone when a member’s account was deleted (the sealed 401 falls back to an identified send, whose 404 drops the member)', async () => {
    const [alice, bob, carol] = [await user('alice'), await user('bob'), await user('carol')];
    // Everyone holds everyone's profile key, so the group send goes sealed.
    for (const [from, to] of [[alice, bob], [bob, alice], [carol, alice], [carol, bob], [alice, carol], [bob, carol]] as const) {
      await from.c.send(to.name, `hi ${to.name}`);
      await until(`${to.name} has it`, async () => (await texts(to.c, from.name)).includes(`hi ${to.name}`));
    }
    const conv = await alice.c.groups.create('Deleted member', [bob.name, carol.name]);
    for (const c of [bob.c, carol.c]) await until('group known', async () => (await c.groups.find(conv)) !== undefined);
    // Sender keys handed out: the next group send is one sealed multi-recipient upload.
    await alice.c.send(conv, 'before');
    for (const c of [bob.c, carol.c]) await until('group message', async () => (await texts(c, conv)).includes('before'));
    await carol.c.close();
    const del = await fetch(`${server.url}/admin/accounts/${carol.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${server.operatorToken}` } });
    expect(del.status).toBe(200);
    await alice.c.send(conv, 'after carol left the service');
    await until('bob got it', async () => (await texts(bob.c, conv)).includes('after carol left the service'));
  }, 90_000);

  it('the API is no account-existence oracle: unknown account and wrong key answer the same 401', async () => {
    const alice = await user('alice');
    const req = { timestamp: Date.now(), messages: [{ deviceId: 1, registrationId: 1, type: EnvelopeType.Sealed, content: 'AAAA' }] };
    const api = internalsOf(alice.c).api();
    const wrong = await api.sendSealed(alice.id, req as never, new Uint8Array(16));
    const unknown = await api.sendSealed('00000000-0000-4000-8000-000000000000', req as never, new Uint8Array(16));
    expect(wrong.status).toBe(401);
    expect(unknown).toEqual(wrong);
  }, 30_000);
});
