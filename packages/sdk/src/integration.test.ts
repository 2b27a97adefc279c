/**
 * The SDK against the real server (packages/server) on a random port in a temp dir:
 * real SQLite, real libsignal, real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, type TestServer } from '../../../test/harness/index.js';
import type { Client } from './client.js';
import { IdentityChangedError } from './errors.js';
import { inbox, nextEvent, until } from './testing/helpers.js';
import { linkDevice } from '../../../test/harness/sdk-helpers.js';
import { internalsOf } from './testing/services.js';

const h = new Harness();
let server: TestServer;
let n = 0;
const uniq = (base: string) => `${base}${n++}`;

beforeAll(async () => {
  server = await h.startServer();
});
afterAll(() => h.dispose());

async function user(base: string): Promise<{ client: Client; name: string }> {
  const name = uniq(base);
  return { client: await h.registeredClient(server, name), name };
}

describe('SDK ↔ real server', () => {
  it('alice and bob exchange messages both ways', async () => {
    const { client: alice, name: a } = await user('alice');
    const { client: bob, name: b } = await user('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    const atBob = nextEvent(bob, 'message');
    await alice.send(b, 'hello bob');
    expect((await atBob)[0]).toMatchObject({ text: 'hello bob', conversation: a, direction: 'incoming' });
    const atAlice = nextEvent(alice, 'message');
    await bob.send(a, 'hello alice');
    expect((await atAlice)[0]).toMatchObject({ text: 'hello alice', conversation: b });
    expect((await alice.messages.list({ conversation: b })).map((m) => [m.direction, m.text])).toEqual([
      ['outgoing', 'hello bob'],
      ['incoming', 'hello alice'],
    ]);
  });

  it('offline bob receives everything on reconnect, in order, once', async () => {
    const { client: alice } = await user('alice');
    const b = uniq('bob');
    const bobDir = await h.tempDir(b);
    const { Client } = await import('./client.js');
    let bob = await Client.open({ profileDir: bobDir, passphrase: h.passphrase });
    const [invite] = await server.mintInvites(1);
    await bob.register({ serverUrl: server.url, inviteCode: invite!, username: b });
    await bob.close();
    const texts = Array.from({ length: 25 }, (_, i) => `offline ${i}`);
    for (const t of texts) await alice.send(b, t);

    bob = await Client.open({ profileDir: bobDir, passphrase: h.passphrase });
    const got = inbox(bob);
    const empty = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty;
    expect(got.map((m) => m.text)).toEqual(texts);
    await bob.close();

    bob = await Client.open({ profileDir: bobDir, passphrase: h.passphrase });
    const again = inbox(bob);
    const empty2 = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty2;
    expect(again).toEqual([]);
    expect((await bob.messages.list()).map((m) => m.text)).toEqual(texts);
    await bob.close();
  });

  it('first contacts leave no trace in the stored one-time prekey count: topped up at once while connected, at connect after being offline', async () => {
    const b = uniq('bob');
    const bobDir = await h.tempDir(b);
    const { Client } = await import('./client.js');
    let bob = await Client.open({ profileDir: bobDir, passphrase: h.passphrase });
    const [invite] = await server.mintInvites(1);
    await bob.register({ serverUrl: server.url, inviteCode: invite!, username: b });
    const counts = () => internalsOf(bob).api().keyCount();
    const atTarget = async () => {
      const c = await counts();
      return c.preKeys === 100 && c.kyberPreKeys === 100;
    };
    const empty = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty;
    expect(await counts()).toEqual({ preKeys: 100, kyberPreKeys: 100 });

    // Three first contacts each take one EC and one Kyber key; bob puts them back as each arrives.
    for (const sender of await Promise.all([user('carol'), user('carol'), user('carol')])) {
      const got = nextEvent(bob, 'message');
      await sender.client.send(b, 'first contact');
      await got;
    }
    await until('bob topped his one-time keys back up', atTarget);
    expect(await counts()).toEqual({ preKeys: 100, kyberPreKeys: 100 });

    // What remains: while bob is offline the stored count drops; the next connect restores it.
    await bob.close();
    for (const sender of await Promise.all([user('dave'), user('dave')])) await sender.client.send(b, 'while offline');
    bob = await Client.open({ profileDir: bobDir, passphrase: h.passphrase });
    expect(await counts()).toEqual({ preKeys: 98, kyberPreKeys: 98 });
    const got = inbox(bob);
    await bob.connect();
    await until('both offline messages arrived', () => got.length === 2);
    await until('bob topped up at connect', atTarget);
    await bob.close();
  });

  it('a linked device receives later messages and sync copies; removing it stops delivery', async () => {
    const { client: alice, name: a } = await user('alice');
    const { client: bob, name: b } = await user('bob');
    await alice.send(b, 'before the link');
    const alice2 = await h.openClient(a + '-2');
    const { deviceId, verification } = await linkDevice(alice, alice2, server.url, 'phone');
    expect(verification).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(alice2.account).toMatchObject({ accountId: alice.account!.accountId, username: a, deviceId });
    await Promise.all([alice.connect(), alice2.connect(), bob.connect()]);

    const both = [nextEvent(alice, 'message'), nextEvent(alice2, 'message')];
    await bob.send(a, 'to both'); // 409: bob learns the new device
    for (const [m] of await Promise.all(both)) expect(m).toMatchObject({ text: 'to both', conversation: b });

    const sync = nextEvent(alice2, 'message');
    await alice.send(b, 'sent from the laptop');
    expect((await sync)[0]).toMatchObject({ text: 'sent from the laptop', sync: true, direction: 'outgoing', conversation: b });

    const syncBack = nextEvent(alice, 'message');
    const atBob = nextEvent(bob, 'message');
    await alice2.send(b, 'sent from the phone');
    expect((await syncBack)[0]).toMatchObject({ text: 'sent from the phone', sync: true, from: { deviceId } });
    expect((await atBob)[0]).toMatchObject({ text: 'sent from the phone', from: { deviceId } });

    const devices = await alice.devices.list();
    expect(devices.map((d) => d.deviceId)).toEqual([1, deviceId]);
    expect(devices.find((d) => d.deviceId === deviceId)?.name).toBe('phone');

    const removed = nextEvent(alice2, 'connection', (s) => s.state === 'removed');
    await alice.devices.remove(deviceId);
    await removed;
    const late = inbox(alice2);
    const atAlice = nextEvent(alice, 'message');
    await bob.send(a, 'after removal');
    expect((await atAlice)[0].text).toBe('after removal');
    await alice.send(b, 'no sync any more');
    await new Promise((r) => setTimeout(r, 300));
    expect(late).toEqual([]);
    await expect(alice2.connect()).rejects.toMatchObject({ status: 401 });
  });

  it('identity change: send refused until trust; safety numbers differ before, match after', async () => {
    const { client: alice, name: a } = await user('alice');
    const { client: bob, name: b } = await user('bob');
    await alice.send(b, 'first');
    const before = await alice.identity.safetyNumber(b);
    expect(before).toMatch(/^\d{60}$/);
    expect(await bob.identity.safetyNumber(a)).toBe(before);

    await bob.reregister();
    const changed = nextEvent(alice, 'identity-changed');
    await expect(alice.send(b, 'second')).rejects.toBeInstanceOf(IdentityChangedError);
    expect((await changed)[0]).toMatchObject({ username: b });
    await expect(alice.send(b, 'still refused')).rejects.toMatchObject({ code: 'IDENTITY_CHANGED' });
    expect(await alice.identity.safetyNumber(b)).not.toBe(await bob.identity.safetyNumber(a));

    await alice.identity.trust(b);
    expect(await alice.identity.safetyNumber(b)).toBe(await bob.identity.safetyNumber(a));
    await bob.connect();
    const got = nextEvent(bob, 'message');
    await alice.send(b, 'third');
    expect((await got)[0].text).toBe('third');
  });

  it('a decryption failure triggers a resend request and the message is recovered', async () => {
    const { client: alice, name: a } = await user('alice');
    const { client: bob, name: b } = await user('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    const first = nextEvent(bob, 'message');
    await alice.send(b, 'setup');
    await first;
    const reply = nextEvent(alice, 'message');
    await bob.send(a, 'reply');
    await reply;

    internalsOf(bob).store.deleteSession(`${alice.account!.accountId}.1`);
    const failed = nextEvent(bob, 'decryption-error');
    const recovered = nextEvent(bob, 'message');
    await alice.send(b, 'recover me');
    expect((await failed)[0]).toMatchObject({ accountId: alice.account!.accountId, deviceId: 1 });
    expect((await recovered)[0]).toMatchObject({ text: 'recover me', conversation: a });
    await until('history complete', async () => (await bob.messages.list({ conversation: a })).length === 3);
    expect((await bob.messages.list({ conversation: a })).map((m) => m.text)).toEqual(['setup', 'reply', 'recover me']);
  });

  it('409/410 reconciliation: the recipient links a device, then re-registers', async () => {
    const { client: alice, name: a } = await user('alice');
    const { client: bob, name: b } = await user('bob');
    await alice.send(b, 'one');
    const bob2 = await h.openClient(b + '-2');
    await linkDevice(bob, bob2, server.url);
    await bob2.connect();
    const at2 = nextEvent(bob2, 'message');
    await alice.send(b, 'two'); // 409 missing [2]
    expect((await at2)[0].text).toBe('two');
    await bob.reregister(); // device 2 removed, device 1 stale
    await expect(alice.send(b, 'three')).rejects.toBeInstanceOf(IdentityChangedError);
    await alice.identity.trust(b);
    await bob.connect();
    const at1 = nextEvent(bob, 'message');
    await alice.send(b, 'four'); // 409 extra [2] and 410 stale [1], then a fresh session
    expect((await at1)[0].text).toBe('four');
  });
});
