/**
 * Sealed sends over the sealed socket, against the real server through a counting proxy:
 * while the socket is open no sealed send goes over HTTP; when it is down (refused, cut,
 * or dropped mid-request) they go over HTTP, without credentials; and every message
 * arrives exactly once.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Harness, type TestServer } from '../../../../test/harness/index.js';
import { CountingProxy } from '../../../../test/harness/counting-proxy.js';
import { connectedUser, until } from '../../../../test/harness/sdk-helpers.js';
import type { Client } from '../client.js';
import { internalsOf } from '../testing/services.js';
import { SealedSocket } from './sealed-socket.js';

const SEALED_SOCKET = '/v1/sealed-socket';
const h = new Harness();
let server: TestServer;
let n = 0;

beforeAll(async () => {
  server = await h.startServer();
});
afterAll(() => h.dispose());

/**
 * Each user talks through a proxy of their own, so what one proxy counts or drops is that
 * user's traffic only: the other side's receipts (batched, sent a moment later) never land
 * in the count or take the drop meant for this user's send.
 */
async function user(base: string): Promise<{ c: Client; name: string; proxy: CountingProxy }> {
  const name = `${base}${n++}`;
  const proxy = await CountingProxy.start(server.url);
  h.onDispose(() => proxy.close());
  return { c: await connectedUser(h, server, name, { serverUrl: proxy.url }), name, proxy };
}

const texts = async (c: Client, conversation: string) => (await c.messages.list({ conversation })).filter((m) => m.kind === 'text').map((m) => m.text);
const sealedOpen = (c: Client) => internalsOf(c).transport().isSealedOpen;
/** A user's HTTP sealed sends (PUT /v1/sealed and /v1/sealed/:accountId), as their proxy saw them. */
const httpSealedOf = (u: { proxy: CountingProxy }) => u.proxy.puts('/v1/sealed');
/** Longer than the receipt batcher's pause: receipts for what a user just received have gone out. */
const receiptsFlushed = () => new Promise((r) => setTimeout(r, 600));

describe('sealed sends over the sealed socket', () => {
  it('go over the socket while it is open, over HTTP while it is down, and arrive exactly once', async () => {
    const socketSends = vi.spyOn(SealedSocket.prototype, 'send');
    const socketMultiSends = vi.spyOn(SealedSocket.prototype, 'sendMulti');
    const [alice, bob, carol] = [await user('alice'), await user('bob'), await user('carol')];
    for (const u of [alice, bob, carol]) expect(sealedOpen(u.c)).toBe(true);
    const httpSealed = () => [...httpSealedOf(alice), ...httpSealedOf(bob)];

    // The sealed socket's upgrade: its path, no credential, no cookie, no query.
    const upgrades = [alice, bob, carol].flatMap((u) => u.proxy.upgrades);
    const sealedUpgrades = upgrades.filter((u) => u.path.startsWith(SEALED_SOCKET));
    expect(sealedUpgrades).toHaveLength(3);
    for (const u of sealedUpgrades) {
      expect(u.path).toBe(SEALED_SOCKET);
      expect(u.headers.authorization).toBeUndefined();
      expect(u.headers.cookie).toBeUndefined();
    }
    expect(upgrades.filter((u) => u.path === '/v1/socket').every((u) => u.headers.authorization !== undefined)).toBe(true);

    // Profile keys exchanged (first contact goes identified), then everything is sealed.
    const sent = new Map<string, string[]>(); // `${from}>${to}` → texts
    const send = async (from: { c: Client; name: string }, to: { c: Client; name: string }, text: string) => {
      await from.c.send(to.name, text);
      const k = `${from.name}>${to.name}`;
      sent.set(k, [...(sent.get(k) ?? []), text]);
    };
    for (const [from, to] of [[alice, bob], [bob, alice], [carol, alice], [carol, bob], [alice, carol], [bob, carol]] as const) {
      await send(from, to, `hi ${to.name}`);
      await until(`${to.name} has it`, async () => (await texts(to.c, from.name)).includes(`hi ${to.name}`));
    }
    const conv = await alice.c.groups.create('Sealed socket', [bob.name, carol.name]);
    for (const c of [bob.c, carol.c]) await until('group known', async () => (await c.groups.find(conv)) !== undefined);
    await alice.c.send(conv, 'group keys out');
    for (const c of [bob.c, carol.c]) await until('group message', async () => (await texts(c, conv)).includes('group keys out'));

    // 1. Open: sealed 1:1 and group sends over the socket, none over HTTP.
    const httpBefore = httpSealed().length;
    const socketBefore = socketSends.mock.calls.length;
    const multiBefore = socketMultiSends.mock.calls.length;
    for (let i = 0; i < 10; i++) {
      await send(alice, bob, `a→b open ${i}`);
      await send(bob, alice, `b→a open ${i}`);
    }
    await alice.c.send(conv, 'group over the socket');
    await bob.c.send(conv, 'group from bob over the socket');
    for (const c of [bob.c, carol.c]) await until('group over the socket', async () => (await texts(c, conv)).includes('group over the socket'));
    expect(httpSealed().length).toBe(httpBefore);
    expect(socketSends.mock.calls.length - socketBefore).toBeGreaterThanOrEqual(20);
    expect(socketMultiSends.mock.calls.length - multiBefore).toBeGreaterThanOrEqual(2);
    // (Before the keys were known, some sealed tries were refused with 401 and went identified.)
    const answers = await Promise.all(
      [...socketSends.mock.results.slice(socketBefore), ...socketMultiSends.mock.results.slice(multiBefore)].map((r) => r.value as Promise<{ status: number }>),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);

    // 2. Down (the route refused, the open sockets cut): sealed sends go over HTTP, still without credentials.
    // carol's receipts for the group messages go over her own (open) sealed socket first, so
    // they do not land in the count of socket sends below.
    await receiptsFlushed();
    for (const u of [alice, bob]) {
      u.proxy.refuseUpgrade = (path) => (path.startsWith(SEALED_SOCKET) ? 503 : undefined);
      u.proxy.cut(SEALED_SOCKET);
    }
    await until('sealed sockets down', () => !sealedOpen(alice.c) && !sealedOpen(bob.c));
    const downSocket = socketSends.mock.calls.length;
    for (let i = 0; i < 5; i++) {
      await send(alice, bob, `a→b down ${i}`);
      await send(bob, alice, `b→a down ${i}`);
    }
    const overHttp = httpSealed().slice(httpBefore);
    expect(overHttp.length).toBeGreaterThanOrEqual(10);
    expect(overHttp.every((r) => !r.authorized)).toBe(true);
    expect(socketSends.mock.calls.length).toBe(downSocket);
    // The device sockets were not touched.
    expect(internalsOf(alice.c).transport().isOpen && internalsOf(bob.c).transport().isOpen).toBe(true);

    // 3. Back: each client reconnects its sealed socket on its own, and HTTP is left again.
    for (const u of [alice, bob]) u.proxy.refuseUpgrade = () => undefined;
    await until('sealed sockets back', () => sealedOpen(alice.c) && sealedOpen(bob.c), 45_000);
    // Receipts for the "down" messages may still be on their way over HTTP: let them go first.
    await receiptsFlushed();
    const httpBack = httpSealed().length;
    await send(alice, bob, 'a→b back');
    await send(bob, alice, 'b→a back');
    await until('alice has "b→a back"', async () => (await texts(alice.c, bob.name)).includes('b→a back'));
    await receiptsFlushed();
    expect(httpSealed().length).toBe(httpBack);

    // 4. Dropped mid-request, before the server got the frame: retried over HTTP. Only
    // alice's proxy drops, and alice has nothing else to send by now (her receipts went).
    const aliceBack = httpSealedOf(alice).length;
    alice.proxy.dropNext(SEALED_SOCKET, 'to-server');
    await send(alice, bob, 'a→b dropped before');
    expect(httpSealedOf(alice).length).toBe(aliceBack + 1);
    // After the server stored it (the answer lost): retried over HTTP, stored twice, shown once.
    await until('sealed socket back', () => sealedOpen(alice.c), 45_000);
    alice.proxy.dropNext(SEALED_SOCKET, 'to-client');
    await send(alice, bob, 'a→b dropped after');
    expect(httpSealedOf(alice).length).toBe(aliceBack + 2);

    // Exactly once: every text sent arrived, none twice.
    const ab = sent.get(`${alice.name}>${bob.name}`)!;
    const ba = sent.get(`${bob.name}>${alice.name}`)!;
    await until('bob has all', async () => (await texts(bob.c, alice.name)).filter((t) => ab.includes(t)).length >= ab.length, 30_000);
    await until('alice has all', async () => (await texts(alice.c, bob.name)).filter((t) => ba.includes(t)).length >= ba.length, 30_000);
    // Give a duplicate time to show up.
    await new Promise((r) => setTimeout(r, 500));
    const atBob = (await texts(bob.c, alice.name)).filter((t) => ab.includes(t));
    const atAlice = (await texts(alice.c, bob.name)).filter((t) => ba.includes(t));
    expect([...atBob].sort()).toEqual([...ab].sort());
    expect([...atAlice].sort()).toEqual([...ba].sort());
  }, 180_000);
});
