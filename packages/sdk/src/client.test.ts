import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Client } from './client.js';
import { IdentityChangedError, KluisError, NotRegisteredError, WrongPassphraseError } from './errors.js';
import { FakeServer } from './testing/fake-server.js';
import { inbox, nextEvent, until } from './testing/helpers.js';
import { tempDir } from './store/test-util.js';
import { PREKEY_REFILL_THRESHOLD } from '@kluis/protocol';
import { internalsOf } from './testing/services.js';

const t = tempDir();
let server: FakeServer;
let clients: Client[] = [];
let n = 0;

beforeAll(async () => {
  server = await new FakeServer().start();
});
afterEach(async () => {
  for (const c of clients) await c.close().catch(() => {});
  clients = [];
});
afterAll(async () => {
  await server.stop();
  t.cleanup();
});

async function open(name: string, extra: Partial<Parameters<typeof Client.open>[0]> = {}): Promise<Client> {
  const c = await Client.open({ profileDir: join(t.dir, `${name}-${n++}`), passphrase: 'pw', pollIntervalMs: 20, ...extra });
  clients.push(c);
  return c;
}

async function registered(username: string, extra: Partial<Parameters<typeof Client.open>[0]> = {}): Promise<Client> {
  const c = await open(username, extra);
  await c.register({ serverUrl: server.url, inviteCode: server.invite(), username, deviceName: `${username}'s laptop` });
  return c;
}

const uniq = (base: string) => `${base}${n++}`;

async function linkSecond(primary: Client, name: string): Promise<Client> {
  const second = await open(name);
  const { code } = await primary.devices.createLinkCode();
  let shownNew = '';
  let shownPrimary = '';
  const [res] = await Promise.all([
    primary.devices.approveLink(code, {
      confirm: (v) => {
        shownPrimary = v;
        return true;
      },
    }),
    second.link({ serverUrl: server.url, code, deviceName: 'phone', onVerification: (v) => (shownNew = v) }),
  ]);
  expect(shownPrimary).toMatch(/^\d{5}( \d{5}){5}$/);
  expect(shownPrimary).toBe(shownNew);
  expect(second.account?.deviceId).toBe(res.deviceId);
  return second;
}

describe('Client against the in-memory fake server', () => {
  it('opens, refuses a wrong passphrase, reports not registered', async () => {
    const dir = join(t.dir, 'pp');
    const c = await Client.open({ profileDir: dir, passphrase: 'right' });
    expect(c.isRegistered).toBe(false);
    await expect(c.send('x', 'y')).rejects.toBeInstanceOf(NotRegisteredError);
    await c.close();
    await expect(Client.open({ profileDir: dir, passphrase: 'wrong' })).rejects.toBeInstanceOf(WrongPassphraseError);
  });

  it('registers and persists the account across reopen', async () => {
    const name = uniq('carol');
    const dir = join(t.dir, name);
    const c = await Client.open({ profileDir: dir, passphrase: 'pw' });
    await c.register({ serverUrl: server.url, inviteCode: server.invite(), username: name });
    const acct = c.account;
    expect(acct).toMatchObject({ username: name, deviceId: 1 });
    await c.close();
    const again = await Client.open({ profileDir: dir, passphrase: 'pw' });
    clients.push(again);
    expect(again.account).toEqual(acct);
    await expect(again.register({ serverUrl: server.url, inviteCode: server.invite(), username: 'zzz' })).rejects.toMatchObject({
      code: 'ALREADY_REGISTERED',
    });
  });

  it('alice and bob exchange messages both ways, over socket and HTTP', async () => {
    const a = uniq('alice');
    const b = uniq('bob');
    const alice = await registered(a);
    const bob = await registered(b);
    await alice.connect();
    await bob.connect();
    const got = nextEvent(bob, 'message');
    await alice.send(b, 'hello bob');
    const [m] = await got;
    expect(m).toMatchObject({ conversation: a, direction: 'incoming', text: 'hello bob', from: { username: a, deviceId: 1 } });

    const back = nextEvent(alice, 'message');
    await bob.send(a, 'hi alice');
    expect((await back)[0].text).toBe('hi alice');

    // HTTP path: a client that never connected can still send.
    const carolName = uniq('carol');
    const carol = await registered(carolName);
    const fromCarol = nextEvent(bob, 'message');
    await carol.send(b, 'via http');
    expect((await fromCarol)[0]).toMatchObject({ text: 'via http', conversation: carolName });

    const hist = await bob.messages.list({ conversation: a });
    expect(hist.map((x) => [x.direction, x.text])).toEqual([
      ['incoming', 'hello bob'],
      ['outgoing', 'hi alice'],
    ]);
    expect(hist[1]!.status).toBe('sent');
  });

  it('offline bob receives everything in order, exactly once', async () => {
    const a = uniq('alice');
    const b = uniq('bob');
    const alice = await registered(a);
    const bobDir = join(t.dir, b);
    let bob = await Client.open({ profileDir: bobDir, passphrase: 'pw' });
    await bob.register({ serverUrl: server.url, inviteCode: server.invite(), username: b });
    await bob.close();
    const texts = Array.from({ length: 12 }, (_, i) => `msg ${i}`);
    for (const x of texts) await alice.send(b, x);

    bob = await Client.open({ profileDir: bobDir, passphrase: 'pw' });
    clients.push(bob);
    const got = inbox(bob);
    const empty = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty;
    expect(got.map((m) => m.text)).toEqual(texts);
    await bob.close();

    bob = await Client.open({ profileDir: bobDir, passphrase: 'pw' });
    clients.push(bob);
    const again = inbox(bob);
    const empty2 = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty2;
    expect(again).toEqual([]);
    expect((await bob.messages.list()).map((m) => m.text)).toEqual(texts);
  });

  it('a linked device gets later messages and sync copies; removing it stops delivery', async () => {
    const a = uniq('alice');
    const b = uniq('bob');
    const alice = await registered(a);
    const bob = await registered(b);
    await alice.send(b, 'before link');
    const alice2 = await linkSecond(alice, a + '-2');
    expect(alice2.account).toMatchObject({ username: a, accountId: alice.account!.accountId, deviceId: 2 });
    await Promise.all([alice.connect(), alice2.connect(), bob.connect()]);

    const both = [nextEvent(alice, 'message'), nextEvent(alice2, 'message')];
    await bob.send(a, 'to both alices'); // bob learns of device 2 from a 409
    for (const [m] of await Promise.all(both)) expect(m).toMatchObject({ text: 'to both alices', direction: 'incoming' });

    const sync = nextEvent(alice2, 'message');
    const atBob = nextEvent(bob, 'message');
    await alice.send(b, 'from the laptop');
    expect((await sync)[0]).toMatchObject({ text: 'from the laptop', sync: true, direction: 'outgoing', conversation: b });
    expect((await atBob)[0].text).toBe('from the laptop');

    const syncBack = nextEvent(alice, 'message');
    await alice2.send(b, 'from the phone');
    expect((await syncBack)[0]).toMatchObject({ text: 'from the phone', sync: true, from: { deviceId: 2 } });

    const devices = await alice.devices.list();
    expect(devices.map((d) => [d.deviceId, d.name, d.current])).toEqual([
      [1, `${a}'s laptop`, true],
      [2, 'phone', false],
    ]);

    const removed = nextEvent(alice2, 'connection', (s) => s.state === 'removed');
    await alice.devices.remove(2);
    await removed;
    await bob.send(a, 'after removal'); // 409 extra → dropped device 2
    const last = server.accepted.filter((x) => x.to === alice.account!.accountId).at(-1)!;
    expect(last.req.messages.map((m) => m.deviceId)).toEqual([1]);
    await alice.send(b, 'no more sync'); // own device list now just [1]: no sync copy sent
    // Only alice's own sends count here (receipts from bob may land in between).
    const fromAlice = server.accepted.filter((x) => x.from.startsWith(alice.account!.accountId));
    expect(fromAlice.at(-1)!.to).toBe(bob.account!.accountId);
    // The removed device's credentials are gone: connecting fails with the server's 401.
    await expect(alice2.connect()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('identity change blocks sending until trust; safety numbers differ before and match after', async () => {
    const a = uniq('alice');
    const b = uniq('bob');
    const alice = await registered(a);
    const bob = await registered(b);
    await alice.send(b, 'one');
    const before = await alice.identity.safetyNumber(b);
    expect(before).toMatch(/^\d{60}$/);
    expect(await bob.identity.safetyNumber(a)).toBe(before);

    await bob.reregister();
    const changed = nextEvent(alice, 'identity-changed');
    const err = await alice.send(b, 'two').catch((e) => e);
    expect(err).toBeInstanceOf(IdentityChangedError);
    expect(err.code).toBe('IDENTITY_CHANGED');
    expect((await changed)[0]).toMatchObject({ username: b, accountId: bob.account!.accountId });
    await expect(alice.send(b, 'still blocked')).rejects.toBeInstanceOf(IdentityChangedError);
    expect(await alice.identity.safetyNumber(b)).not.toBe(await bob.identity.safetyNumber(a));

    await alice.identity.trust(b);
    expect(await alice.identity.safetyNumber(b)).toBe(await bob.identity.safetyNumber(a));
    await bob.connect();
    const got = nextEvent(bob, 'message');
    await alice.send(b, 'three');
    expect((await got)[0].text).toBe('three');
  });

  it('a message from a changed identity is accepted but blocks replies until trust', async () => {
    const a = uniq('alice');
    const b = uniq('bob');
    const alice = await registered(a);
    const bob = await registered(b);
    await alice.send(b, 'one');
    await bob.reregister();
    await alice.connect();
    const changed = nextEvent(alice, 'identity-changed');
    const got = nextEvent(alice, 'message');
    await bob.send(a, 'new phone who dis');
    expect((await got)[0].text).toBe('new phone who dis');
    await changed;
    await expect(alice.send(b, 'reply')).rejects.toBeInstanceOf(IdentityChangedError);
    await alice.identity.trust(b);
    await bob.connect();
    const atBob = nextEvent(bob, 'message');
    await alice.send(b, 'reply');
    expect((await atBob)[0].text).toBe('reply');
  });

  it('a decryption failure sends a resend request and the sender resends the original', async () => {
    const a = uniq('alice');
    const b = uniq('bob');
    const alice = await registered(a);
    const bob = await registered(b);
    await Promise.all([alice.connect(), bob.connect()]);
    const first = nextEvent(bob, 'message');
    await alice.send(b, 'establish');
    await first;
    const reply = nextEvent(alice, 'message');
    await bob.send(a, 'ack'); // alice now sends whisper (type 2) messages
    await reply;

    // Bob loses his session with alice: her next whisper message cannot be decrypted.
    internalsOf(bob).store.deleteSession(`${alice.account!.accountId}.1`);
    const errors: Error[] = [];
    for (const c of [alice, bob]) c.on('error', (e) => errors.push(e));
    const failed = nextEvent(bob, 'decryption-error');
    const recovered = nextEvent(bob, 'message');
    await alice.send(b, 'please arrive');
    expect((await failed)[0]).toMatchObject({ accountId: alice.account!.accountId, deviceId: 1 });
    expect((await recovered)[0]).toMatchObject({ text: 'please arrive', conversation: a });
    await until('the resend completed', async () => (await bob.messages.list({ conversation: a })).length === 3);
    expect((await bob.messages.list({ conversation: a })).map((m) => m.text)).toEqual(['establish', 'ack', 'please arrive']);
    const resend = server.accepted.filter((x) => x.req.resend && x.to === alice.account!.accountId);
    expect(resend.length).toBe(1);
    expect(resend[0]!.req.messages[0]!.type).toBe(8);
    const resent = server.accepted.filter((x) => x.req.resend && x.to === bob.account!.accountId);
    expect(resent.length).toBe(1);
    expect(resent[0]!.req.messages[0]!.type).toBe(3);
    expect(errors).toEqual([]);
  });

  it('a crash before commit (hook throws) leaves the envelope unacked; it is stored once later', async () => {
    const a = uniq('alice');
    const b = uniq('bob');
    const alice = await registered(a);
    const bobDir = join(t.dir, b);
    let crash = true;
    let bob = await Client.open({
      profileDir: bobDir,
      passphrase: 'pw',
      hooks: {
        beforeCommit: () => {
          if (crash) throw new Error('simulated crash');
        },
      },
    });
    await bob.register({ serverUrl: server.url, inviteCode: server.invite(), username: b });
    await alice.send(b, 'first');
    await alice.send(b, 'second');
    const errors: Error[] = [];
    bob.on('error', (e) => errors.push(e));
    const empty = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty;
    expect(errors.length).toBe(2);
    expect(await bob.messages.list()).toEqual([]);
    await bob.close();

    crash = false;
    bob = await Client.open({ profileDir: bobDir, passphrase: 'pw' });
    clients.push(bob);
    const got = inbox(bob);
    const empty2 = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty2;
    expect(got.map((m) => m.text)).toEqual(['first', 'second']);
    await until('all acked', () => server.account(b).devices.get(1)!.queue.length === 0);
  });

  it('duplicate envelopes (same guid, or replayed ciphertext) are dropped silently', async () => {
    const a = uniq('alice');
    const b = uniq('bob');
    const alice = await registered(a);
    const bob = await registered(b);
    server.tamper = (to, _d, env) => {
      if (to !== bob.account!.accountId) return env;
      server.tamper = undefined;
      const dev = server.account(b).devices.get(1)!;
      dev.queue.push(env, { ...env, guid: crypto.randomUUID() }); // a replay under a new guid
      return env; // and the same guid again
    };
    await alice.send(b, 'once');
    const got = inbox(bob);
    const errors: Error[] = [];
    bob.on('error', (e) => errors.push(e));
    const empty = nextEvent(bob, 'queue-empty');
    await bob.connect();
    await empty;
    await internalsOf(bob).receiver.idle();
    expect(got.map((m) => m.text)).toEqual(['once']);
    expect(errors).toEqual([]);
    await until('all acked', () => server.account(b).devices.get(1)!.queue.length === 0);
  });

  it('tops one-time prekeys back up to the target and rotates old signed keys', async () => {
    let now = Date.now();
    const b = uniq('bob');
    const bob = await registered(b, { clock: () => now });
    const dev = server.account(b).devices.get(1)!;
    dev.preKeys.splice(0, dev.preKeys.length - (PREKEY_REFILL_THRESHOLD - 1));
    const oldSigned = dev.signedPreKey.keyId;
    now += 3 * 24 * 3600_000;
    await bob.connect();
    // Exactly back to 100: a stored count below it would show how many first contacts bob had.
    await until('prekeys topped up', () => dev.preKeys.length === 100);
    await until('signed prekey rotated', () => dev.signedPreKey.keyId !== oldSigned);
    // The server sees the upload before the client records the rotation locally.
    await until('rotation recorded locally', () => internalsOf(bob).store.listSignedPreKeys().filter((k) => k.replacedAt === null).length === 1);
    expect(dev.kyberPreKeys.length).toBe(100);
    const signed = internalsOf(bob).store.listSignedPreKeys();
    expect(signed.length).toBe(2); // the previous one is kept for in-flight messages
    expect(signed.filter((k) => k.replacedAt === null).map((k) => k.id)).toEqual([dev.signedPreKey.keyId]);
    expect(internalsOf(bob).store.listKyberPreKeys(true).length).toBe(2);
  });

  it('reconnects after a dropped socket and keeps receiving', async () => {
    const a = uniq('alice');
    const b = uniq('bob');
    const alice = await registered(a);
    const bob = await registered(b);
    await bob.connect();
    const states: string[] = [];
    bob.on('connection', (s) => states.push(s.state));
    const back = nextEvent(bob, 'connection', (s) => s.state === 'connected');
    server.dropSocket(b, 1);
    await back;
    const got = nextEvent(bob, 'message');
    await alice.send(b, 'after reconnect');
    expect((await got)[0].text).toBe('after reconnect');
    expect(states.slice(0, 2)).toEqual(['disconnected', 'connected']);
  });

  it('a connection that stops answering pings is dropped and re-established', async () => {
    const b = uniq('bob');
    const bob = await registered(b, { pingIntervalMs: 100 });
    await bob.connect();
    const states: string[] = [];
    bob.on('connection', (s) => states.push(s.state));
    server.muteSocket(b, 1);
    await until('reconnected', () => states.includes('connected'), 5000);
    expect(states[0]).toBe('disconnected');
    expect(bob.isConnected).toBe(true);
  });

  it('a second connection of the same device replaces the first (no reconnect loop)', async () => {
    const b = uniq('bob');
    const dir = join(t.dir, b);
    const bob = await Client.open({ profileDir: dir, passphrase: 'pw' });
    clients.push(bob);
    await bob.register({ serverUrl: server.url, inviteCode: server.invite(), username: b });
    await bob.connect();
    const replaced = nextEvent(bob, 'connection', (s) => s.state === 'replaced');
    // Same credentials from another client object (a copy of the profile would do the same).
    const { FakeServer: _ } = await import('./testing/fake-server.js');
    const WebSocket = (await import('ws')).default;
    const acct = server.account(b);
    const ws = new WebSocket(server.url.replace('http', 'ws') + '/v1/socket', {
      headers: { authorization: 'Basic ' + Buffer.from(`${acct.id}.1:${acct.devices.get(1)!.password}`).toString('base64') },
    });
    await replaced;
    ws.close();
    expect(bob.isConnected).toBe(false);
  });

  it('unknown usernames give a server error with its code', async () => {
    const alice = await registered(uniq('alice'));
    await expect(alice.send('nobody_here', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    await expect(alice.send(alice.account!.username, 'x')).rejects.toBeInstanceOf(KluisError);
  });
});
