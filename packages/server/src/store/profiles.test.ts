import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, seedAccount, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { ProfileStore } from './profiles.js';

let t: TestDb;
const store = new ProfileStore();
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const v1 = 'a'.repeat(64);
const v2 = 'b'.repeat(64);
const DAY = 86_400_000;

describeStores('ProfileStore', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
    await seedAccount(t.db, A);
    await seedAccount(t.db, B);
  });
  afterEach(() => t.close());

  it('inserts, replaces whole, and keeps accounts apart', async () => {
    expect(await store.get(t.db, A)).toBeUndefined();
    await store.put(t.db, { accountId: A, version: v1, ciphertext: Buffer.from([0, 1, 2, 255]), updatedAt: DAY });
    expect(await store.get(t.db, A)).toEqual({ accountId: A, version: v1, ciphertext: Buffer.from([0, 1, 2, 255]), updatedAt: DAY });
    await store.put(t.db, { accountId: A, version: v2, ciphertext: Buffer.alloc(96 * 1024, 7), updatedAt: 2 ** 41 });
    const replaced = await store.get(t.db, A);
    expect(replaced).toMatchObject({ version: v2, updatedAt: Math.floor(2 ** 41 / DAY) * DAY });
    expect(replaced!.ciphertext.equals(Buffer.alloc(96 * 1024, 7))).toBe(true);
    expect(await store.get(t.db, B)).toBeUndefined();
  });

  it('keeps the update time to the day: a profile-key rotation (a block) is not dated to the millisecond', async () => {
    const rotated = Date.UTC(2026, 0, 10, 13, 14, 15, 678);
    await store.put(t.db, { accountId: A, version: v1, ciphertext: Buffer.from('a'), updatedAt: rotated - 3_600_000 });
    await store.put(t.db, { accountId: A, version: v2, ciphertext: Buffer.from('b'), updatedAt: rotated });
    const row = await t.db.selectFrom('profiles').select('updated_at').where('account_id', '=', A).executeTakeFirstOrThrow();
    expect(Number(row.updated_at)).toBe(Date.UTC(2026, 0, 10));
    expect((await store.get(t.db, A))?.updatedAt).toBe(Date.UTC(2026, 0, 10));
  });

  it('removes one account’s profile, and goes with the account row', async () => {
    await store.put(t.db, { accountId: A, version: v1, ciphertext: Buffer.from('a'), updatedAt: 1 });
    await store.put(t.db, { accountId: B, version: v2, ciphertext: Buffer.from('b'), updatedAt: 1 });
    await store.remove(t.db, A);
    await store.remove(t.db, A);
    expect(await store.get(t.db, A)).toBeUndefined();
    expect((await store.get(t.db, B))?.version).toBe(v2);
    // The foreign key's cascade: a deletion path that forgets the profile still leaves none.
    await t.db.deleteFrom('devices').where('account_id', '=', B).execute();
    await t.db.deleteFrom('accounts').where('id', '=', B).execute();
    expect(await store.get(t.db, B)).toBeUndefined();
  });

  it('refuses a profile for an account that does not exist', async () => {
    await expect(store.put(t.db, { accountId: '33333333-3333-4333-8333-333333333333', version: v1, ciphertext: Buffer.from('x'), updatedAt: 1 })).rejects.toThrow();
  });
});
