import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerAccount } from '../../packages/server/src/test-support/accounts.js';
import type { TestServer as ServerTestServer } from '../../packages/server/src/test-support/test-server.js';
import { Harness } from '../harness/index.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import type { RawCredentials } from '../harness/raw-device.js';
import { RingLoad, type RingReport } from '../harness/ring-load.js';

const DEVICES = Number(process.env.KLUIS_CHAOS_DEVICES ?? 200);
/** Each device sends one message per interval: 200 devices / 0.33 s ≈ 600 msgs/s offered. */
const INTERVAL_MS = Number(process.env.KLUIS_CHAOS_INTERVAL_MS ?? 330);
const KILLS = Number(process.env.KLUIS_CHAOS_KILLS ?? 10);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function summary(name: string, r: RingReport, extra = ''): string {
  return (
    `${name}: ${r.devices} devices, ${(r.durationMs / 1000).toFixed(1)} s, ${r.acked} acked (${r.msgsPerSecond} msgs/s), ` +
    `${r.unknown} unknown outcome, ${r.refused} refused; lost ${r.lost}, duplicates ${r.duplicates}, out of order ${r.outOfOrder}, ` +
    `redeliveries dropped by guid ${r.redeliveries}; latency p99 ${r.p99LatencyMs} ms, max ${r.maxLatencyMs} ms; ` +
    `longest delivery gap ${r.longestQuietMs} ms; reconnects ${r.reconnects}${extra}`
  );
}

/**
 * Chaos under steady load on three `kluis server` processes (PostgreSQL + 3-node NATS):
 * nodes SIGKILLed at random moments, then a NATS node killed. Every acknowledged
 * message must arrive exactly once to the user (repeats of one guid are dropped as the
 * SDK does), in per-sender order.
 */
describe('chaos: a steady load while nodes die', () => {
  const h = new Harness();
  let cluster: Cluster;
  let creds: RawCredentials[];
  const liveUrls = () => cluster.nodes.map((n) => n.url);

  beforeAll(async () => {
    cluster = await startCluster(h, { postgresUrl: inject('kluisPostgresUrl'), database: 'kluis_chaos', heartbeatSeconds: 1 });
    const invites = await cluster.mintInvites(DEVICES);
    creds = [];
    // Registered through every node, ten at a time.
    for (let i = 0; i < DEVICES; i += 10) {
      const batch = await Promise.all(
        invites.slice(i, i + 10).map((invite, j) =>
          registerAccount({ url: cluster.nodes[(i + j) % cluster.nodes.length]!.url, mintInvites: async () => [invite] } as unknown as ServerTestServer, {
            invite,
            preKeys: 1,
            kyberPreKeys: 1,
          }),
        ),
      );
      creds.push(...batch.map((d) => ({ accountId: d.accountId, deviceId: d.deviceId, registrationId: d.registrationId, auth: d.auth })));
    }
  }, 120_000);
  afterAll(async () => {
    await h.dispose();
    await cluster?.stop();
  });

  it(`SIGKILLs a random node ${KILLS} times at random moments: every acked message once, in order`, async () => {
    const load = new RingLoad(creds, liveUrls, { intervalMs: INTERVAL_MS, tag: 'kill' });
    const kills: string[] = [];
    let settled = false;
    try {
      await load.connect();
      load.start();
      try {
        // A node takes seconds to start on a busy 2-core machine, so restarts run in the
        // background and the next kill may come while one node is still down (never the last).
        const restarts: Promise<void>[] = [];
        for (let k = 0; k < KILLS; k++) {
          await sleep(500 + Math.random() * 1_500);
          while (cluster.nodes.filter((n) => n.listening).length < 2) await sleep(100);
          const running = cluster.nodes.filter((n) => n.listening);
          const victim = running[Math.floor(Math.random() * running.length)]!;
          await victim.stop('SIGKILL');
          const downAt = Date.now();
          restarts.push(
            (async () => {
              await sleep(100 + Math.random() * 500);
              await victim.start();
              kills.push(`${victim.name} ${Date.now() - downAt} ms`);
            })(),
          );
        }
        await Promise.all(restarts);
        await sleep(1_000);
      } finally {
        await load.stop();
      }
      settled = await load.settle(30_000);
    } finally {
      // Always: a ring left connected would fight the next test's sockets (4000).
      await load.disconnect();
    }
    const r = load.report();
    console.log(summary('chaos (node SIGKILL)', r, `\nkills (down time incl. restart): ${kills.join(', ')}`));
    expect(settled).toBe(true);
    expect(r.acked).toBeGreaterThan(DEVICES * 10);
    expect(r.lost).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.outOfOrder).toBe(0);
  }, 150_000);

  it('kills a NATS node mid-load: nothing acked is lost and delivery continues', async () => {
    const load = new RingLoad(creds, liveUrls, { intervalMs: INTERVAL_MS, tag: 'nats' });
    let killedAt = 0;
    let deliveredWhileDown = 0;
    let settled = false;
    try {
      await load.connect();
      load.start();
      try {
        await sleep(2_000);
        // node-1's own NATS server: node-1 must move to another one.
        const victim = cluster.nats.nodes[0]!;
        await victim.kill('SIGKILL');
        killedAt = Date.now();
        await sleep(4_000);
        deliveredWhileDown = load.deliveredSince(killedAt);
        await victim.restart();
        await sleep(1_000);
      } finally {
        await load.stop();
      }
      settled = await load.settle(30_000);
    } finally {
      await load.disconnect();
    }
    const r = load.report();
    const ackedAfterKill = load.ackedSince(killedAt).length;
    console.log(summary('chaos (NATS node SIGKILL)', r, `; ${deliveredWhileDown} delivered in the 4 s the NATS node was down, ${ackedAfterKill} acked after the kill`));
    expect(settled).toBe(true);
    expect(r.lost).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.outOfOrder).toBe(0);
    expect(deliveredWhileDown).toBeGreaterThan(DEVICES);
    expect(ackedAfterKill).toBeGreaterThan(0);
  }, 90_000);
});
