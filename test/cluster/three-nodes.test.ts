import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoredMessage } from '@kluis/sdk';
import { SocketCloseCode } from '@kluis/protocol';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { NatsBus } from '../../packages/server/src/delivery/nats-bus.js';
import { registerAccount, sendBody } from '../../packages/server/src/test-support/accounts.js';
import { call } from '../../packages/server/src/test-support/http.js';
import { TestSocket } from '../../packages/server/src/test-support/socket-client.js';
import type { TestServer as ServerTestServer } from '../../packages/server/src/test-support/test-server.js';
import { Harness, type TestServer } from '../harness/index.js';
import { startNatsCluster, type NatsCluster } from '../harness/nats.js';
import { waitUntil } from '../harness/wait.js';

/**
 * Three kluis nodes sharing one PostgreSQL database and a 3-node NATS cluster, with
 * clients spread over the nodes.
 */
describe('three kluis nodes on PostgreSQL + NATS', () => {
  const h = new Harness();
  let nats: NatsCluster;
  const nodes: TestServer[] = [];
  let dbUrl: string;
  /** Enough of the server test-support's TestServer for registerAccount. */
  const serverFor = (i: number) => ({ url: nodes[i]!.url, mintInvites: nodes[i]!.mintInvites }) as unknown as ServerTestServer;

  beforeAll(async () => {
    nats = await startNatsCluster({ size: 3 });
    const admin = new pg.Client({ connectionString: inject('kluisPostgresUrl') });
    await admin.connect();
    await admin.query('create database kluis_three_nodes');
    await admin.end();
    const url = new URL(inject('kluisPostgresUrl'));
    url.pathname = '/kluis_three_nodes';
    dbUrl = url.toString();
    // All three start at the same moment, as after a data-centre power cut: one does
    // the first start (default brand, operator token), the others see it done. They
    // share a data dir only so the harness finds the one token file.
    const dataDir = await h.tempDir('cluster');
    const started = await Promise.all(
      [0, 1, 2].map((i) => {
        const bus = [nats.nodes[i]!.url, ...nats.nodes.filter((_, j) => j !== i).map((n) => n.url)].join(',');
        return h.startServer({ database: url.toString(), bus, nodeName: `node-${i + 1}`, argon2MemoryKib: 64, argon2Iterations: 1 }, dataDir);
      }),
    );
    nodes.push(...started);
  });
  afterAll(async () => {
    await h.dispose();
    await nats?.stop();
  });

  it('registers on one node and is found through another', async () => {
    const alice = await h.registeredClient(nodes[0]!, 'alice');
    const bob = await h.registeredClient(nodes[2]!, 'bob');
    expect(alice).toBeDefined();
    expect(bob).toBeDefined();
    const res = await fetch(new URL('/healthz', nodes[1]!.url));
    expect(res.status).toBeLessThan(500);
  });

  it('delivers both ways exactly once and in per-sender order, clients spread over nodes', async () => {
    const alice = await h.registeredClient(nodes[0]!, 'alice2');
    const carol = await h.registeredClient(nodes[1]!, 'carol2');
    const bob = await h.registeredClient(nodes[2]!, 'bob2');
    const toBob: StoredMessage[] = [];
    const toAlice: StoredMessage[] = [];
    bob.on('message', (m) => m.direction === 'incoming' && toBob.push(m));
    alice.on('message', (m) => m.direction === 'incoming' && toAlice.push(m));
    await Promise.all([alice.connect(), bob.connect(), carol.connect()]);
    // Two senders on different nodes at once: their commits interleave, so queue ids
    // from the shared sequence do not follow commit order on bob's node.
    const N = 25;
    const run = async (from: typeof alice, to: string, tag: string) => {
      for (let i = 0; i < N; i++) await from.send(to, `${tag}${i}`);
    };
    await Promise.all([run(alice, 'bob2', 'a'), run(carol, 'bob2', 'c'), run(bob, 'alice2', 'b')]);
    await waitUntil('bob has all', () => toBob.length >= 2 * N, 20_000);
    await waitUntil('alice has all', () => toAlice.length >= N, 20_000);
    // Let any duplicate arrive before counting.
    await new Promise((r) => setTimeout(r, 500));
    const texts = (list: StoredMessage[], sender: string) => list.filter((m) => m.from.username === sender).map((m) => m.text);
    const expected = (tag: string) => Array.from({ length: N }, (_, i) => `${tag}${i}`);
    expect(texts(toBob, 'alice2')).toEqual(expected('a'));
    expect(texts(toBob, 'carol2')).toEqual(expected('c'));
    expect(texts(toAlice, 'bob2')).toEqual(expected('b'));
    expect(toBob).toHaveLength(2 * N);
  });

  it('an admin suspension on one node closes the account\'s socket on another, and keeps it out', async () => {
    const frank = await registerAccount(serverFor(0));
    const socket = await TestSocket.connect(nodes[2]!.url, frank.auth);
    await socket.backlog();
    const res = await fetch(new URL(`/admin/accounts/${frank.accountId}/suspend`, nodes[0]!.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${nodes[0]!.operatorToken}` },
    });
    expect(res.status).toBe(200);
    expect((await socket.closed).code).toBe(SocketCloseCode.AccountSuspended);
    await expect(TestSocket.connect(nodes[2]!.url, frank.auth)).rejects.toThrow();
  });

  it('keeps one live connection per device across the cluster', async () => {
    const dave = await registerAccount(serverFor(0));
    const first = await TestSocket.connect(nodes[0]!.url, dave.auth);
    await first.backlog();
    const second = await TestSocket.connect(nodes[2]!.url, dave.auth);
    await second.backlog();
    // The newer socket's 'connected' event crosses NATS and closes the older one.
    expect((await first.closed).code).toBe(SocketCloseCode.ConnectedElsewhere);
    await second.close();
  });

  it('pushes an envelope that commits late with a lower queue id, once', async () => {
    const alice = await registerAccount(serverFor(0));
    const erin = await registerAccount(serverFor(0));
    const socket = await TestSocket.connect(nodes[2]!.url, erin.auth);
    await socket.backlog();
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    const bus = await NatsBus.connect({ servers: [nats.nodes[1]!.url] });
    try {
      // Some node takes an id from the shared sequence, then stalls before committing...
      const { rows } = await db.query<{ id: string }>(`select nextval(pg_get_serial_sequence('envelopes', 'id')) as id`);
      // ...while a later send commits with a higher id and is pushed: erin's cursor passes the gap.
      const sent = await call(nodes[0]!.url, 'PUT', `/v1/messages/${erin.accountId}`, { auth: alice.auth, body: sendBody([erin], 'early') });
      expect(sent.status).toBe(200);
      const early = await socket.next((f) => f.type === 'envelope');
      expect(Buffer.from(early.envelope.content, 'base64').toString()).toBe('early');
      // The stalled commit lands below the cursor, and its node's wake arrives.
      await db.query(
        `insert into envelopes (id, guid, account_id, device_id, type, timestamp, server_timestamp, content, expires_at)
         values ($1, $2, $3, 1, 6, 1, 1, $4, $5)`,
        [Number(rows[0]!.id), randomUUID(), erin.accountId, Buffer.from('late'), Date.now() + 60_000],
      );
      bus.publish(`${erin.accountId}.1`, { type: 'wake' });
      const late = await socket.next((f) => f.type === 'envelope', 5_000);
      expect(Buffer.from(late.envelope.content, 'base64').toString()).toBe('late');
      // The rescan skipped 'early' (pushed, not yet acked): no second copy.
      await expect(socket.next((f) => f.type === 'envelope', 1_000)).rejects.toThrow(/no matching frame/);
    } finally {
      await socket.close();
      await bus.close();
      await db.end();
    }
  });

  it('reports readiness and Prometheus metrics', async () => {
    const ready = await fetch(new URL('/readyz', nodes[1]!.url));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ store: 'ok', bus: 'ok' });
    const metrics = await (await fetch(new URL('/metrics', nodes[0]!.url))).text();
    expect(metrics).toMatch(/^kluis_envelopes_queued_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^kluis_send_latency_seconds_count [1-9]\d*$/m);
    expect(metrics).toMatch(/^kluis_bus_connected 1$/m);
  });
});
