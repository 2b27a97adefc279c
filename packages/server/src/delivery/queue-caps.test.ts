import { describe, expect, it } from 'vitest';
import { deviceKey } from './bus.js';
import { QueueCaps, type QueueTarget, type QueueUsage } from './queue-caps.js';

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const target = (deviceId: number, bytes = 10, accountId = A): QueueTarget => ({ key: deviceKey(accountId, deviceId), accountId, deviceId, count: 1, bytes });

function caps(stored: Map<string, QueueUsage>, opts: { maxEnvelopes?: number; maxBytes?: number; maxDevices?: number } = {}) {
  let now = 1_000_000;
  const loads: number[] = [];
  const c = new QueueCaps({
    maxEnvelopes: opts.maxEnvelopes ?? 5,
    maxBytes: opts.maxBytes ?? 1000,
    maxDevices: opts.maxDevices,
    clock: () => now,
    load: async (devices) => {
      loads.push(devices.length);
      return devices.flatMap((d) => stored.get(deviceKey(d.accountId, d.deviceId)) ?? []);
    },
  });
  return { c, loads, advance: (ms: number) => (now += ms) };
}

describe('QueueCaps', () => {
  it('reads a device once, then counts its sends in memory: no query per send', async () => {
    const { c, loads } = caps(new Map(), { maxEnvelopes: 10_000, maxBytes: 1_000_000 });
    for (let i = 0; i < 1000; i++) {
      const r = c.admit([target(1)]);
      expect(await r).toBeUndefined();
      if (i > 0) expect(r).toBeUndefined(); // synchronous: not even a promise
      c.settle([target(1)], true);
    }
    expect(loads).toEqual([1]);
  });

  it('refuses past the cap in messages or bytes, gives back refused sends, and re-reads a full device at most once a second', async () => {
    const stored = new Map([[deviceKey(A, 1), { accountId: A, deviceId: 1, count: 4, bytes: 40 }]]);
    const { c, loads, advance } = caps(stored);
    expect(await c.admit([target(1)])).toBeUndefined();
    c.settle([target(1)], true);
    const full = await c.admit([target(1)]);
    expect(full?.code).toBe('QUEUE_FULL');
    expect(full?.extra).toMatchObject({ full: [{ accountId: A, deviceIds: [1] }] });
    // Refused again without a read while the last one is under a second old.
    for (let i = 0; i < 100; i++) expect((await c.admit([target(1)]))?.code).toBe('QUEUE_FULL');
    expect(loads).toEqual([1]);
    // The device drained (acks are not counted here): the next read finds it so.
    stored.delete(deviceKey(A, 1));
    advance(1_000);
    expect(await c.admit([target(1)])).toBeUndefined();
    expect(loads).toEqual([1, 1]);
    // A send that then failed (404/409/503) gives its share back.
    c.settle([target(1)], false);
    for (let i = 0; i < 5; i++) expect(await c.admit([target(1)])).toBeUndefined();
    expect((await c.admit([target(1)]))?.code).toBe('QUEUE_FULL');
    // Bytes: a device with room for messages but not for 1000 bytes.
    expect((await c.admit([target(2, 1001)]))?.code).toBe('QUEUE_FULL');
    expect(await c.admit([target(2, 1000)])).toBeUndefined();
  });

  it('is an upper bound between reads, corrected from the database every minute (a cluster node sees only its own inserts)', async () => {
    const stored = new Map<string, QueueUsage>();
    const { c, loads, advance } = caps(stored, { maxEnvelopes: 100 });
    expect(await c.admit([target(1)])).toBeUndefined();
    c.settle([target(1)], true);
    // Another node filled the queue meanwhile: this node learns it at its next read.
    stored.set(deviceKey(A, 1), { accountId: A, deviceId: 1, count: 100, bytes: 100 });
    expect(await c.admit([target(1)])).toBeUndefined();
    advance(60_000);
    expect((await c.admit([target(1)]))?.code).toBe('QUEUE_FULL');
    expect(loads).toEqual([1, 1]);
  });

  it('admit (1:1 sends) takes a send whole or refuses it whole, naming only the full devices', async () => {
    const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
    const stored = new Map([[deviceKey(B, 2), { accountId: B, deviceId: 2, count: 5, bytes: 5 }]]);
    const { c } = caps(stored);
    const r = await c.admit([target(1), target(1, 10, B), target(2, 10, B)]);
    expect(r?.extra).toMatchObject({ full: [{ accountId: B, deviceIds: [2] }] });
    expect(r?.message).toMatch(/^the queues of 1 recipient devices are full|^the recipient's device 2/);
    // Nothing was counted for the others: five more fit on A's device 1.
    for (let i = 0; i < 5; i++) expect(await c.admit([target(1)])).toBeUndefined();
  });

  it('admitAvailable (multi-recipient sends) leaves out the full devices and counts in only the others; 507 when all are full', async () => {
    const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
    const stored = new Map([[deviceKey(B, 2), { accountId: B, deviceId: 2, count: 5, bytes: 5 }]]);
    const { c } = caps(stored);
    const send = [target(1), target(1, 10, B), target(2, 10, B)];
    const a = await c.admitAvailable(send);
    expect(a.error).toBeUndefined();
    expect(a.full).toEqual([target(2, 10, B)]);
    expect(a.admitted).toEqual([target(1), target(1, 10, B)]);
    c.settle(a.admitted, true);
    // A's device 1 took one: four more fit, then it is full too.
    for (let i = 0; i < 4; i++) expect(await c.admit([target(1)])).toBeUndefined();
    expect((await c.admit([target(1)]))?.code).toBe('QUEUE_FULL');
    // Every destination full: refused whole, nothing counted.
    const none = await c.admitAvailable([target(1), target(2, 10, B)]);
    expect(none.error?.code).toBe('QUEUE_FULL');
    expect(none.error?.extra).toMatchObject({ full: [{ accountId: A, deviceIds: [1] }, { accountId: B, deviceIds: [2] }] });
    expect(none.admitted).toEqual([]);
    // B's device 1 had one counted in: four more fit.
    for (let i = 0; i < 4; i++) expect(await c.admit([target(1, 10, B)])).toBeUndefined();
    expect((await c.admit([target(1, 10, B)]))?.code).toBe('QUEUE_FULL');
  });

  it('holds at most maxDevices devices', async () => {
    const { c } = caps(new Map(), { maxDevices: 100 });
    for (let d = 0; d < 1000; d++) await c.admit([target(1, 10, `acct-${d}`)]);
    expect(c.size).toBe(100);
  });
});
