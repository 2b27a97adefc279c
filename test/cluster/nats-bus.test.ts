import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../packages/server/src/delivery/bus.js';
import { NatsBus } from '../../packages/server/src/delivery/nats-bus.js';
import { startNatsCluster, type NatsCluster } from '../harness/nats.js';
import { waitUntil } from '../harness/wait.js';

let cluster: NatsCluster;
const buses: NatsBus[] = [];
beforeAll(async () => {
  cluster = await startNatsCluster({ size: 3 });
});
afterAll(async () => {
  for (const b of buses) await b.close().catch(() => {});
  await cluster?.stop();
});

async function bus(nodeIndex: number, opts: { pollIntervalMs?: number } = {}): Promise<NatsBus> {
  // Each kluis node lists every NATS server, its own first (as a deployment would).
  const servers = [cluster.nodes[nodeIndex]!.url, ...cluster.nodes.filter((_, i) => i !== nodeIndex).map((n) => n.url)];
  const b = await NatsBus.connect({ servers, name: `test-${nodeIndex}`, ...opts });
  buses.push(b);
  return b;
}

const live = (id: number): DeviceEvent => ({
  type: 'envelopes',
  envelopes: [{ id, guid: `g${id}`, type: 1, sourceAccount: null, sourceDevice: null, timestamp: 1, serverTimestamp: 1, content: Buffer.from('x') }],
});

describe('NatsBus across a 3-node NATS cluster', () => {
  it('delivers locally at once, and wakes the node holding the socket', async () => {
    const a = await bus(0);
    const b = await bus(2);
    const onA: DeviceEvent[] = [];
    const onB: DeviceEvent[] = [];
    a.subscribe('acc.1', (e) => onA.push(e));
    b.subscribe('acc.1', (e) => onB.push(e));
    a.publish('acc.1', live(1));
    // Local delivery is synchronous and keeps the envelopes (no database read needed).
    expect(onA).toEqual([live(1)]);
    // Interest crosses routes within ~100 ms; until then a publish may be missed,
    // which is exactly what the periodic poll covers. Publish until it arrives.
    await waitUntil('a wake reaches the other node', async () => {
      a.publish('acc.1', live(2));
      await new Promise((r) => setTimeout(r, 30));
      return onB.some((e) => e.type === 'wake');
    });
    // Bodies never cross the bus, and a node does not hear its own publishes twice.
    expect(onB.every((e) => e.type === 'wake')).toBe(true);
    expect(onA.every((e) => e.type === 'envelopes')).toBe(true);
  });

  it('carries online-only envelopes whole (they are in no database), and only to the node holding the socket', async () => {
    const a = await bus(0);
    const b = await bus(1);
    const seen: DeviceEvent[] = [];
    b.subscribe('acc.5', (e) => seen.push(e));
    const online: DeviceEvent = {
      type: 'online',
      envelopes: [{ guid: 'g-online', type: 2, sourceAccount: 'acc', sourceDevice: 1, timestamp: 1, serverTimestamp: 2, content: Buffer.from('typing') }],
    };
    await waitUntil('the online envelope arrives', async () => {
      a.publish('acc.5', online);
      await new Promise((r) => setTimeout(r, 30));
      return seen.length > 0;
    });
    expect(seen[0]).toEqual(online);
  });

  it('carries connected / removed events so an older socket elsewhere closes', async () => {
    const a = await bus(1);
    const b = await bus(2);
    const seen: DeviceEvent[] = [];
    b.subscribe('acc.2', (e) => seen.push(e));
    await waitUntil('connected arrives', async () => {
      a.publish('acc.2', { type: 'connected', connectionId: 'c1' });
      await new Promise((r) => setTimeout(r, 30));
      return seen.length > 0;
    });
    expect(seen[0]).toEqual({ type: 'connected', connectionId: 'c1' });
  });

  it('wakes every local socket periodically, the fallback for lost publishes', async () => {
    const a = await bus(0, { pollIntervalMs: 300 });
    const wakes: number[] = [];
    const unsubscribe = a.subscribe('acc.3', (e) => e.type === 'wake' && wakes.push(Date.now()));
    await waitUntil('two periodic wakes', () => wakes.length >= 2, 5_000);
    unsubscribe();
  });

  it('keeps working when the NATS node it is connected to dies', async () => {
    const a = await bus(0);
    const b = await bus(1);
    const seen: DeviceEvent[] = [];
    b.subscribe('acc.4', (e) => seen.push(e));
    await cluster.nodes[0]!.kill('SIGKILL');
    try {
      await waitUntil(
        'a publish from the failed-over client arrives',
        async () => {
          a.publish('acc.4', { type: 'removed' });
          await new Promise((r) => setTimeout(r, 50));
          // The periodic poll may wake the subscriber meanwhile: look past wakes.
          return seen.some((e) => e.type !== 'wake');
        },
        15_000,
      );
    } finally {
      await cluster.nodes[0]!.restart();
    }
    expect(seen.find((e) => e.type !== 'wake')).toEqual({ type: 'removed' });
  });
});
