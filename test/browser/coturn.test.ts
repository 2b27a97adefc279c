import { createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@kluis/sdk';
import { Harness, startCoturn, type Coturn } from '../harness/index.js';
import { connectedUser } from '../harness/sdk-helpers.js';
import { TurnClient, type Address } from '../harness/turn-client.js';

/*
 * The credentials GET /v1/calls/relay hands out work on a real coturn (Debian's, as
 * deploy/coturn/turnserver.conf runs it): here because `npm test` needs npm packages only
 * and .ci/run installs coturn before this suite. The server is a real `kluis server`
 * process given the relay the way an operator does (--turn-urls, --turn-secret-file).
 */
describe('calls relay: kluis credentials on a real coturn', () => {
  const h = new Harness();
  let turn: Coturn;
  let alice: Client;
  let relay: { address: string; port: number };

  beforeAll(async () => {
    turn = await startCoturn();
    h.onDispose(() => turn.stop());
    const server = await h.spawnServer({ env: { KLUIS_TURN_URLS: turn.urls.join(','), KLUIS_TURN_SECRET_FILE: turn.secretFile } });
    alice = await connectedUser(h, server, 'alice');
    relay = { address: '127.0.0.1', port: turn.port };
  });
  afterAll(() => h.dispose());

  /** A UDP peer on loopback: the other end of a relayed call. */
  async function udpPeer(): Promise<{ socket: Socket; address: Address; next(): Promise<{ data: Buffer; from: Address }> }> {
    const socket = createSocket('udp4');
    h.onDispose(() => socket.close());
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const queue: Array<{ data: Buffer; from: Address }> = [];
    socket.on('message', (data, rinfo) => queue.push({ data, from: { address: rinfo.address, port: rinfo.port } }));
    const next = async () => {
      for (let i = 0; i < 100 && queue.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const got = queue.shift();
      if (!got) throw new Error('the peer received nothing through the relay');
      return got;
    };
    const { address, port } = socket.address();
    return { socket, address: { address, port }, next };
  }

  async function session(transport: 'udp' | 'tcp'): Promise<TurnClient> {
    const c = await TurnClient.connect(relay, transport);
    h.onDispose(() => c.close());
    return c;
  }

  it('hands out the relay it was given, with use-auth-secret credentials', async () => {
    const r = await alice.calls.relay();
    expect(r.urls).toEqual(turn.urls);
    expect(r.username).toMatch(/^\d{10}:[0-9a-f]{16}$/);
    expect(r.credential).toBe(createHmac('sha1', turn.secret).update(r.username!).digest('base64'));
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`allocates over ${transport} with them and relays a datagram both ways`, async () => {
      const r = await alice.calls.relay();
      const c = await session(transport);
      const res = await c.allocate({ username: r.username!, password: r.credential! });
      if (!res.ok) throw new Error(`Allocate refused: ${res.code} ${res.reason}`);
      expect(res.relayed.address).toBe('127.0.0.1');
      expect(res.relayed.port).toBeGreaterThanOrEqual(turn.minPort);
      expect(res.relayed.port).toBeLessThanOrEqual(turn.maxPort);
      expect(res.lifetime).toBeGreaterThan(0);

      const peer = await udpPeer();
      await c.createPermission(peer.address);
      c.send(peer.address, Buffer.from(`hello over ${transport}`));
      const got = await peer.next();
      expect(got.data.toString()).toBe(`hello over ${transport}`);
      // The peer sees the relay's port, never the client's own address.
      expect(got.from).toEqual(res.relayed);

      peer.socket.send(Buffer.from('and back'), res.relayed.port, res.relayed.address);
      const back = await c.nextData();
      expect(back.data.toString()).toBe('and back');
      expect(back.peer).toEqual(peer.address);
      await c.deallocate();
    });
  }

  it('refuses a wrong password', async () => {
    const r = await alice.calls.relay();
    const c = await session('tcp');
    const res = await c.allocate({ username: r.username!, password: Buffer.from('not the credential').toString('base64') });
    if (res.ok) throw new Error('allocated');
    expect([401, 431, 441]).toContain(res.code);
  });

  it('refuses a credential past its expiry, even one signed with the right secret', async () => {
    const username = `${Math.floor(Date.now() / 1000) - 60}:0123456789abcdef`;
    const password = createHmac('sha1', turn.secret).update(username).digest('base64');
    const c = await session('udp');
    const res = await c.allocate({ username, password });
    if (res.ok) throw new Error('allocated');
    expect([401, 431, 441]).toContain(res.code);

    // The same shape with a future expiry goes through: it was the expiry that was refused.
    const fresh = `${Math.floor(Date.now() / 1000) + 600}:0123456789abcdef`;
    const ok = await (await session('udp')).allocate({ username: fresh, password: createHmac('sha1', turn.secret).update(fresh).digest('base64') });
    expect(ok.ok).toBe(true);
  });
});
