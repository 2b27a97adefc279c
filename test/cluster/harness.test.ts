import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startNatsCluster, type NatsCluster } from '../harness/nats.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { waitUntil } from '../harness/wait.js';

const teardown: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const t of teardown.reverse()) await t().catch(() => {});
});

async function query(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('real-service harness', () => {
  it('starts a throwaway PostgreSQL, pauses and resumes it, and removes it', async () => {
    const started = Date.now();
    const server: PostgresServer = await startPostgres();
    teardown.push(() => server.stop());
    const startMs = Date.now() - started;
    expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    const other = await server.createDatabase('second');
    expect(await query(other, 'select current_database() as db')).toEqual([{ db: 'second' }]);
    await server.pause();
    await expect(query(server.url, 'select 1')).rejects.toThrow();
    await server.resume();
    expect(await query(server.url, 'select 2 as two')).toEqual([{ two: 2 }]);
    await server.stop();
    await expect(query(server.url, 'select 1')).rejects.toThrow();
    console.log(`PostgreSQL initdb + start + create database: ${startMs} ms`);
  });

  it('starts a 3-node NATS cluster whose nodes route to each other, survives a node restart', async () => {
    const started = Date.now();
    const cluster: NatsCluster = await startNatsCluster({ size: 3 });
    teardown.push(() => cluster.stop());
    const startMs = Date.now() - started;
    const [n1, , n3] = cluster.nodes;
    const pub: NatsConnection = await connect({ servers: n1!.url });
    const sub: NatsConnection = await connect({ servers: n3!.url });
    teardown.push(() => pub.close());
    teardown.push(() => sub.close());
    const seen: string[] = [];
    sub.subscribe('kluis.test', { callback: (_err, msg) => void seen.push(msg.string()) });
    await sub.flush();
    // Interest takes a moment to propagate across routes (notes/toolchain.md): publish until seen.
    await waitUntil('a publish on node 1 reaches node 3', async () => {
      pub.publish('kluis.test', 'hello');
      await pub.flush();
      await new Promise((r) => setTimeout(r, 20));
      return seen.length > 0;
    });
    const pid = n3!.pid;
    await n3!.kill('SIGKILL');
    await n3!.restart();
    expect(n3!.pid).not.toBe(pid);
    await cluster.stop();
    console.log(`NATS 3-node cluster ready: ${startMs} ms`);
  });
});
