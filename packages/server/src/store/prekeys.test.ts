import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, seedAccount, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { PreKeyStore } from './prekeys.js';

let t: TestDb;
const store = new PreKeyStore();
const A = '11111111-1111-4111-8111-111111111111';

describeStores('PreKeyStore', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
    await seedAccount(t.db, A);
  });
  afterEach(() => t.close());

  it('adds, replaces by key id, counts and hands out each key once', async () => {
    await store.addEc(t.db, A, 1, [
      { keyId: 5, publicKey: Buffer.alloc(33, 5) },
      { keyId: 6, publicKey: Buffer.alloc(33, 6) },
    ]);
    await store.addEc(t.db, A, 1, [{ keyId: 5, publicKey: Buffer.alloc(33, 9) }]);
    await store.addKyber(t.db, A, 1, [{ keyId: 1, publicKey: Buffer.alloc(1569, 1), signature: Buffer.alloc(64, 1) }]);
    expect(await store.counts(t.db, A, 1)).toEqual({ preKeys: 2, kyberPreKeys: 1 });
    const first = await t.db.transaction().execute((trx) => store.takeEc(trx, A, 1));
    expect(first).toEqual({ keyId: 5, publicKey: Buffer.alloc(33, 9) });
    expect((await store.takeEc(t.db, A, 1))?.keyId).toBe(6);
    expect(await store.takeEc(t.db, A, 1)).toBeUndefined();
    expect((await store.takeKyber(t.db, A, 1))?.signature).toEqual(Buffer.alloc(64, 1));
    expect(await store.takeKyber(t.db, A, 1)).toBeUndefined();
  });

  it('removes all keys of a device', async () => {
    await store.addEc(t.db, A, 1, [{ keyId: 1, publicKey: Buffer.alloc(33) }]);
    await store.removeForDevice(t.db, A, 1);
    expect(await store.counts(t.db, A, 1)).toEqual({ preKeys: 0, kyberPreKeys: 0 });
  });
});
