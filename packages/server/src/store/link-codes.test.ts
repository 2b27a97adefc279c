import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, seedAccount, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { LinkCodeStore } from './link-codes.js';

let t: TestDb;
const store = new LinkCodeStore();
const A = '11111111-1111-4111-8111-111111111111';
const hash = Buffer.alloc(32, 1);

describeStores('LinkCodeStore', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
    await seedAccount(t.db, A);
    await store.insert(t.db, { codeHash: hash, accountId: A, createdAt: 0, expiresAt: 1000 });
  });
  afterEach(() => t.close());

  it('moves waiting → requested → provisioned → linked, each step once', async () => {
    expect((await store.live(t.db, hash, 10))?.state).toBe('waiting');
    expect(await store.provision(t.db, hash, A, Buffer.from('s'), 10)).toBe(false);
    expect(await store.request(t.db, hash, Buffer.from('pk'), 10)).toBe(true);
    expect(await store.request(t.db, hash, Buffer.from('pk2'), 10)).toBe(false);
    expect(await store.provision(t.db, hash, '22222222-2222-4222-8222-222222222222', Buffer.from('s'), 10)).toBe(false);
    expect(await store.provision(t.db, hash, A, Buffer.from('s'), 10)).toBe(true);
    expect(await store.markLinked(t.db, hash, 2, 10)).toBe(true);
    expect(await store.markLinked(t.db, hash, 3, 10)).toBe(false);
    expect(await store.live(t.db, hash, 10)).toMatchObject({ state: 'linked', deviceId: 2, sealed: null, publicKey: Buffer.from('pk') });
  });

  it('treats expired codes as gone and deletes them', async () => {
    expect(await store.live(t.db, hash, 1000)).toBeUndefined();
    expect(await store.request(t.db, hash, Buffer.from('pk'), 1000)).toBe(false);
    expect(await store.removeExpired(t.db, 999)).toBe(0);
    expect(await store.removeExpired(t.db, 1000)).toBe(1);
  });
});
