import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, seedAccount, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { envelopeStoreFor, type EnvelopeStore, type NewEnvelope } from './envelopes.js';

let t: TestDb;
let store: EnvelopeStore;
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

function env(accountId: string, deviceId: number, content: string, expiresAt = 10_000): NewEnvelope {
  return {
    guid: randomUUID(),
    accountId,
    deviceId,
    type: 2,
    sourceAccount: B,
    sourceDevice: 1,
    timestamp: 5,
    serverTimestamp: 6,
    content: Buffer.from(content),
    expiresAt,
  };
}

describeStores('EnvelopeStore', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
    store = envelopeStoreFor(t.adapter);
    await seedAccount(t.db, A);
    await seedAccount(t.db, B);
  });
  afterEach(() => t.close());

  it('counts envelopes and ciphertext bytes per device for the queue caps (devices asked for only)', async () => {
    await store.insertMany(t.db, [env(A, 1, 'abc'), env(A, 1, 'de'), env(A, 2, 'xyz1'), env(B, 1, 'q')]);
    const usage = await store.usage(t.db, [{ accountId: A, deviceId: 1 }, { accountId: B, deviceId: 2 }]);
    expect(usage).toEqual([{ accountId: A, deviceId: 1, count: 2, bytes: 5 }]);
    const all = await store.usage(t.db, [{ accountId: A, deviceId: 1 }, { accountId: A, deviceId: 2 }, { accountId: B, deviceId: 1 }]);
    expect(all.sort((x, y) => (x.accountId + x.deviceId).localeCompare(y.accountId + y.deviceId))).toEqual([
      { accountId: A, deviceId: 1, count: 2, bytes: 5 },
      { accountId: A, deviceId: 2, count: 1, bytes: 4 },
      { accountId: B, deviceId: 1, count: 1, bytes: 1 },
    ]);
  });

  it('keeps per-device queues in insertion order, paged from a cursor', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push(await store.insert(t.db, env(A, 1, `a${i}`)));
      await store.insert(t.db, env(A, 2, `other${i}`));
    }
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    const first = await store.page(t.db, A, 1, 0, 4);
    expect(first.map((e) => e.content.toString())).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(first[0]).toMatchObject({ type: 2, sourceAccount: B, sourceDevice: 1, timestamp: 5, serverTimestamp: 6 });
    const rest = await store.page(t.db, A, 1, first[3]!.id, 100);
    expect(rest.map((e) => e.content.toString())).toEqual(['a4', 'a5', 'a6', 'a7', 'a8', 'a9']);
  });

  it(
    dialect === 'sqlite'
      ? 'gives each device queue a lane of its own: ordered within it, not adjacent across queues (the rows of one send do not sit together)'
      : 'takes positions from the shared sequence (cluster mode): ordered for every queue, adjacent across queues (docs/security.md says so)',
    async () => {
      // One commit: a sealed envelope to B's device, the sender's sync copy to A's device 2.
      const [toB, toA2, toB2] = await store.insertMany(t.db, [env(B, 1, 'to bob'), env(A, 2, 'sync copy'), env(B, 1, 'to bob again')]);
      const again = envelopeStoreFor(t.adapter);
      const afterRestart = await again.insert(t.db, env(B, 1, 'after restart'));
      expect(afterRestart).toBeGreaterThan(toB2!);
      expect(Number.isSafeInteger(toA2)).toBe(true);
      if (dialect === 'sqlite') {
        expect(toB2).toBe(toB! + 1);
        expect(Math.abs(toA2! - toB!)).toBeGreaterThan(1_000_000);
        // After a restart a queue continues above what it holds, in its own lane.
        expect(afterRestart).toBe(toB2! + 1);
      } else {
        // Several nodes write: one sequence, so the rows of one commit are adjacent.
        expect(toB2! - toB!).toBe(2);
        expect(toA2).toBe(toB! + 1);
      }
    },
  );

  it('never reuses a queue position after the newest envelope is deleted', async () => {
    const e = env(A, 1, 'x');
    const id = await store.insert(t.db, e);
    await store.deleteByGuids(t.db, A, 1, [e.guid]);
    expect(await store.insert(t.db, env(A, 1, 'y'))).toBeGreaterThan(id);
  });

  it('deletes acked envelopes of the acking device only, in buckets of any size', async () => {
    const mine = Array.from({ length: 300 }, (_, i) => env(A, 1, `m${i}`));
    const theirs = env(B, 1, 't');
    for (const e of [...mine, theirs]) await store.insert(t.db, e);
    expect(await store.deleteByGuids(t.db, A, 1, [theirs.guid])).toBe(0);
    expect(await store.deleteByGuids(t.db, A, 2, [mine[0]!.guid])).toBe(0);
    expect(await store.deleteByGuids(t.db, A, 1, mine.slice(0, 3).map((e) => e.guid))).toBe(3);
    expect(await store.deleteByGuids(t.db, A, 1, mine.slice(3, 290).map((e) => e.guid))).toBe(287);
    expect(await store.count(t.db, A, 1)).toBe(10);
    expect(await store.count(t.db, B)).toBe(1);
  });

  it('stores content bytes exactly as given', async () => {
    const content = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const e = { ...env(A, 1, ''), content };
    await store.insert(t.db, e);
    const [row] = await store.page(t.db, A, 1, 0, 1);
    expect(Buffer.compare(row!.content, content)).toBe(0);
  });

  it('removes expired envelopes in chunks, and whole queues', async () => {
    for (let i = 0; i < 7; i++) await store.insert(t.db, env(A, 1, `old${i}`, 100));
    await store.insert(t.db, env(A, 1, 'new', 1_000_000));
    await store.insert(t.db, env(A, 2, 'd2'));
    await store.insert(t.db, env(B, 1, 'b'));
    expect(await store.removeExpired(t.db, 100, 5)).toBe(5);
    expect(await store.removeExpired(t.db, 100, 5)).toBe(2);
    expect(await store.removeExpired(t.db, 100, 5)).toBe(0);
    expect(await store.removeForDevice(t.db, A, 2)).toBe(1);
    expect(await store.removeForAccount(t.db, A)).toBe(1);
    expect(await store.count(t.db)).toBe(1);
  });
});
