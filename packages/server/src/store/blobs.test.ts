import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { BlobMetaStore } from './blobs.js';

let t: TestDb;
const store = new BlobMetaStore();
const ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const DAY = 86_400_000;

describeStores('BlobMetaStore', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
    await store.insert(t.db, { id: ID, size: 1000, createdAt: 0, expiresAt: 30 * DAY });
  });
  afterEach(() => t.close());

  it('moves received forward only from the offset it started at', async () => {
    expect(await store.get(t.db, ID)).toEqual({ id: ID, size: 1000, received: 0, complete: false, createdAt: 0, expiresAt: 30 * DAY });
    expect(await store.setReceived(t.db, ID, 0, 400, false)).toBe(true);
    expect(await store.setReceived(t.db, ID, 0, 500, false)).toBe(false);
    expect(await store.setReceived(t.db, ID, 400, 1000, true)).toBe(true);
    expect(await store.setReceived(t.db, ID, 1000, 1000, true)).toBe(false);
    expect(await store.get(t.db, ID)).toMatchObject({ received: 1000, complete: true });
  });

  it('stores whole UTC days, never the millisecond a blob was reserved, and no count of recipients', async () => {
    const id = 'DDDDDDDDDDDDDDDDDDDDDD';
    const at = Date.UTC(2026, 11, 2, 14, 37, 12, 345);
    await store.insert(t.db, { id, size: 10, createdAt: at, expiresAt: at + 30 * DAY });
    const row = await t.db.selectFrom('blobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    // Only the columns a blob needs: nothing counts fetches or recipient devices.
    expect(Object.keys(row).sort()).toEqual(['complete', 'created_at', 'expires_at', 'id', 'received', 'size']);
    expect(Number(row.created_at)).toBe(Date.UTC(2026, 11, 2));
    // Rounded up: a blob is kept at least its TTL.
    expect(Number(row.expires_at)).toBe(Date.UTC(2027, 0, 2));
  });

  it('counts unfinished uploads the sweep has not reached, with their declared and missing bytes', async () => {
    const done = 'CCCCCCCCCCCCCCCCCCCCCC';
    await store.insert(t.db, { id: done, size: 10, createdAt: 0, expiresAt: 30 * DAY });
    await store.setReceived(t.db, done, 0, 10, true);
    await store.setReceived(t.db, ID, 0, 400, false);
    expect(await store.outstanding(t.db, 1, -1)).toEqual({ count: 1, bytes: 1000, remaining: 600 });
    // Reserved on or before the cutoff: the sweep's, no longer counted.
    expect(await store.outstanding(t.db, 1, 0)).toEqual({ count: 0, bytes: 0, remaining: 0 });
  });

  it('lists blobs past their expiry and incomplete uploads older than the cutoff', async () => {
    const done = 'CCCCCCCCCCCCCCCCCCCCCC';
    await store.insert(t.db, { id: done, size: 10, createdAt: 0, expiresAt: 30 * DAY });
    await store.setReceived(t.db, done, 0, 10, true);
    expect(await store.expired(t.db, DAY, 0, 10)).toEqual([ID]);
    expect(await store.expired(t.db, DAY, -1, 10)).toEqual([]);
    expect((await store.expired(t.db, 30 * DAY, -1, 10)).sort()).toEqual([ID, done].sort());
    await store.remove(t.db, ID);
    expect(await store.get(t.db, ID)).toBeUndefined();
  });
});
