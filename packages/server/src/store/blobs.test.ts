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
    expect(await store.get(t.db, ID)).toEqual({ id: ID, size: 1000, received: 0, complete: false, createdAt: 0, expiresAt: 30 * DAY, expected: null, releases: 0 });
    expect(await store.setReceived(t.db, ID, 0, 400, false)).toBe(true);
    expect(await store.setReceived(t.db, ID, 0, 500, false)).toBe(false);
    expect(await store.setReceived(t.db, ID, 400, 1000, true)).toBe(true);
    expect(await store.setReceived(t.db, ID, 1000, 1000, true)).toBe(false);
    expect(await store.get(t.db, ID)).toMatchObject({ received: 1000, complete: true });
  });

  it('sets expected once, on a complete blob, and counts releases', async () => {
    expect(await store.setExpected(t.db, ID, 2)).toBe(false);
    await store.setReceived(t.db, ID, 0, 1000, true);
    expect(await store.setExpected(t.db, ID, 2)).toBe(true);
    expect(await store.setExpected(t.db, ID, 3)).toBe(false);
    expect(await store.addRelease(t.db, ID)).toBe(true);
    expect(await store.addRelease(t.db, ID)).toBe(true);
    expect(await store.addRelease(t.db, 'BBBBBBBBBBBBBBBBBBBBBB')).toBe(false);
    expect(await store.get(t.db, ID)).toMatchObject({ expected: 2, releases: 2 });
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
