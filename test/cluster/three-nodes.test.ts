import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoredMessage } from '@kluis/sdk';
import pg from 'pg';
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

  beforeAll(async () => {
    nats = await startNatsCluster({ size: 3 });
    const admin = new pg.Client({ connectionString: inject('kluisPostgresUrl') });
    await admin.connect();
    await admin.query('create database kluis_three_nodes');
    await admin.end();
    const url = new URL(inject('kluisPostgresUrl'));
    url.pathname = '/kluis_three_nodes';
    // The first node does the first start (default brand, operator token); the others
    // share its data dir only to find the token file the harness reads.
    const dataDir = await h.tempDir('cluster');
    for (let i = 0; i < 3; i++) {
      const bus = [nats.nodes[i]!.url, ...nats.nodes.filter((_, j) => j !== i).map((n) => n.url)].join(',');
      nodes.push(await h.startServer({ database: url.toString(), bus, nodeName: `node-${i + 1}`, argon2MemoryKib: 64, argon2Iterations: 1 }, dataDir));
    }
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

  // Blocked on store/envelopes.ts: insertMany numbers rows in-process, which PostgreSQL's
  // identity column rejects (and two nodes would collide on). See issue 5.
  it.skip('delivers a send accepted on node 1 to a device connected to node 3', async () => {
    const alice = await h.registeredClient(nodes[0]!, 'alice2');
    const bob = await h.registeredClient(nodes[2]!, 'bob2');
    const received: StoredMessage[] = [];
    bob.on('message', (m) => received.push(m));
    await bob.connect();
    for (let i = 0; i < 20; i++) await alice.send('bob2', `m${i}`);
    await waitUntil('bob has all 20', () => received.length >= 20, 20_000);
    expect(received.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });
});
