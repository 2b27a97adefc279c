import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, type StoredMessage } from '@kluis/sdk';
import { SocketCloseCode, type AdminNodeList } from '@kluis/protocol';
import { registerAccount } from '../../packages/server/src/test-support/accounts.js';
import { TestSocket } from '../../packages/server/src/test-support/socket-client.js';
import type { TestServer as ServerTestServer } from '../../packages/server/src/test-support/test-server.js';
import { Harness } from '../harness/index.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait.js';
import { internalsOf } from '@kluis/sdk/testing';

/**
 * Three `kluis server` processes in three regions (PostgreSQL + 3-node NATS): the nodes
 * registry, SDK clients failing over when their node dies, and SIGTERM draining a node.
 */
describe('nodes registry, client failover and drain (3 node processes)', () => {
  const h = new Harness();
  let cluster: Cluster;
  const clients: Client[] = [];

  beforeAll(async () => {
    cluster = await startCluster(h, { postgresUrl: inject('kluisPostgresUrl'), database: 'kluis_nodes_failover', heartbeatSeconds: 1 });
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await h.dispose();
    await cluster?.stop();
  });

  const adminNodes = async (url: string): Promise<AdminNodeList> => {
    const res = await fetch(new URL('/admin/nodes', url), { headers: { authorization: `Bearer ${cluster.operatorToken}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as AdminNodeList;
  };
  const statusOf = async (url: string, name: string) => (await adminNodes(url)).nodes.find((n) => n.name === name)?.status;

  /** An SDK client registered on `home`, preferring `region`. */
  const sdkClient = async (name: string, home: string, region?: string): Promise<{ client: Client; inbox: StoredMessage[] }> => {
    const client = await Client.open({ profileDir: await h.tempDir(`client-${name}`), passphrase: h.passphrase, region, pingIntervalMs: 2_000 });
    clients.push(client);
    const [invite] = await cluster.mintInvites(1);
    await client.register({ serverUrl: home, inviteCode: invite!, username: name });
    const inbox: StoredMessage[] = [];
    client.on('message', (m) => m.direction === 'incoming' && inbox.push(m));
    client.on('error', (e) => console.log(`${name}: ${e.message}`));
    return { client, inbox };
  };

  it('lists every node with its region, connections and health; a killed node turns down', async () => {
    const [n1, n2, n3] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
    const dave = await registerAccount({ url: n3.url, mintInvites: (n = 1) => cluster.mintInvites(n) } as unknown as ServerTestServer);
    const socket = await TestSocket.connect(n3.url, dave.auth);
    await socket.backlog();
    const listed = await waitUntil('node-3 reports its socket', async () => {
      const r = await adminNodes(n1.url);
      return r.nodes.find((n) => n.name === 'node-3')?.connections === 1 ? r : undefined;
    });
    expect(listed.nodes.map((n) => [n.name, n.region, n.status, n.url])).toEqual([
      ['node-2', 'eu-de', 'up', n2.url],
      ['node-3', 'eu-fr', 'up', n3.url],
      ['node-1', 'eu-nl', 'up', n1.url],
    ]);
    const pub = (await (await fetch(new URL('/v1/nodes', n2.url))).json()) as { nodes: Array<Record<string, string>> };
    expect(pub.nodes).toHaveLength(3);
    expect(Object.keys(pub.nodes[0]).sort()).toEqual(['name', 'region', 'url']);

    // The operator's CLI sees the same.
    const env = await h.cliEnv({ KLUIS_SERVER: n2.url, KLUIS_OPERATOR_TOKEN: cluster.operatorToken });
    const json = await h.cli(['admin', 'nodes', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).nodes.map((n: { name: string }) => n.name).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    const text = await h.cli(['admin', 'nodes'], env);
    expect(text.stdout).toMatch(/^node-3\teu-fr\tup\t1\t/m);
    expect(text.stderr).toMatch(/3 of 3 nodes up in 3 region\(s\), 1 connections/);

    await socket.close();
    await n3.stop('SIGKILL');
    const started = Date.now();
    await waitUntil('node-3 shows as down', async () => (await statusOf(n1.url, 'node-3')) === 'down', 10_000);
    const detectMs = Date.now() - started;
    const live = ((await (await fetch(new URL('/v1/nodes', n1.url))).json()) as { nodes: Array<{ name: string }> }).nodes.map((n) => n.name);
    expect(live.sort()).toEqual(['node-1', 'node-2']);
    console.log(`registry: a SIGKILLed node read as down after ${detectMs} ms (heartbeat 1 s)`);
    await n3.start();
    await waitUntil('node-3 up again', async () => (await statusOf(n1.url, 'node-3')) === 'up', 10_000);
  });

  it('an SDK client fails over when its node dies, and loses nothing', async () => {
    const [n1, n2] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]];
    // Alice lives on node-1 (her region); bob on node-2.
    const alice = await sdkClient('alice', n1.url, 'eu-nl');
    const bob = await sdkClient('bob', n2.url, 'eu-de');
    await Promise.all([alice.client.connect(), bob.client.connect()]);
    await bob.client.send('alice', 'before');
    await waitUntil('alice got "before"', () => alice.inbox.length === 1);
    // The bootstrap list (GET /v1/nodes) taught alice every node.
    await waitUntil('alice learned the nodes', () => (internalsOf(alice.client).data.get<unknown[]>('serverNodes')?.length ?? 0) === 3);

    const started = Date.now();
    await n1.stop('SIGKILL');
    // Bob keeps sending while alice's node is gone; alice sends too (her HTTP fails over).
    const N = 20;
    for (let i = 0; i < N; i++) await bob.client.send('alice', `during-${i}`);
    await alice.client.send('bob', 'from alice after failover');
    await waitUntil('alice has everything', () => alice.inbox.length >= N + 1, 30_000);
    const failoverMs = Date.now() - started;
    await waitUntil('bob has alice’s reply', () => bob.inbox.length === 1, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(alice.inbox.map((m) => m.text)).toEqual(['before', ...Array.from({ length: N }, (_, i) => `during-${i}`)]);
    expect(alice.client.isConnected).toBe(true);
    console.log(`failover: alice reconnected elsewhere and had all ${N} messages ${failoverMs} ms after her node was killed`);
    await n1.start();
  });

  it('SIGTERM drains a node: its clients move to other nodes, nothing is lost, exit 0', async () => {
    const n3 = cluster.nodes[2]!;
    const n1 = cluster.nodes[0]!;
    // Both on node-3: the receiver's socket and the sender's in-flight sends must move.
    const carol = await sdkClient('carol', n3.url, 'eu-fr');
    const erin = await sdkClient('erin', n3.url, 'eu-fr');
    await Promise.all([carol.client.connect(), erin.client.connect()]);
    const raw = await registerAccount({ url: n3.url, mintInvites: (n = 1) => cluster.mintInvites(n) } as unknown as ServerTestServer);
    const rawSocket = await TestSocket.connect(n3.url, raw.auth);
    await rawSocket.backlog();

    const N = 40;
    const sending = (async () => {
      for (let i = 0; i < N; i++) {
        await erin.client.send('carol', `m${i}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitUntil('carol is receiving', () => carol.inbox.length >= 5, 20_000);
    const started = Date.now();
    const exit = cluster.nodes[2]!.stop('SIGTERM', 30_000);
    expect((await rawSocket.closed).code).toBe(SocketCloseCode.NodeDraining);
    const result = await exit;
    const drainMs = Date.now() - started;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/draining/);
    await sending;
    await waitUntil('carol has all', () => carol.inbox.length >= N, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(carol.inbox.map((m) => m.text)).toEqual(Array.from({ length: N }, (_, i) => `m${i}`));
    expect(carol.client.isConnected).toBe(true);
    // The registry said draining on the way out (then down once the heartbeat is stale).
    expect(['draining', 'down']).toContain(await statusOf(n1.url, 'node-3'));
    console.log(`drain: node-3 exited 0 after ${drainMs} ms; carol got all ${N} messages once, in order`);
    await n3.start();
  });
});
