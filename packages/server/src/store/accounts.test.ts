import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { AccountStore } from './accounts.js';
import { BrandStore } from './brands.js';
import { OperatorTokenStore } from './operator-tokens.js';

let t: TestDb;
const accounts = new AccountStore();
const brands = new BrandStore();

describeStores('AccountStore / BrandStore / OperatorTokenStore', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
  });
  afterEach(() => t.close());

  it('creates brands and picks the oldest as default', async () => {
    expect(await brands.count(t.db)).toBe(0);
    expect(await brands.defaultBrand(t.db)).toBeUndefined();
    await brands.insert(t.db, { id: 'later', name: 'L', createdAt: 5 });
    await brands.insert(t.db, { id: 'default', name: 'kluis', createdAt: 1 });
    expect((await brands.defaultBrand(t.db))?.id).toBe('default');
  });

  it('stores accounts with unique usernames', async () => {
    await brands.insert(t.db, { id: 'b', name: 'b', createdAt: 0 });
    const a = { id: '11111111-1111-4111-8111-111111111111', username: 'alice', brandId: 'b', identityKey: Buffer.alloc(33, 1), createdAt: 9 };
    await accounts.insert(t.db, a);
    expect(await accounts.byId(t.db, a.id)).toEqual(a);
    expect(await accounts.byUsername(t.db, 'alice')).toEqual(a);
    const dup = accounts.insert(t.db, { ...a, id: '22222222-2222-4222-8222-222222222222' });
    await expect(dup).rejects.toSatisfy((e) => t.adapter.isUniqueViolation(e));
    await accounts.setIdentityKey(t.db, a.id, Buffer.alloc(33, 2));
    expect((await accounts.byId(t.db, a.id))?.identityKey).toEqual(Buffer.alloc(33, 2));
  });

  it('checks operator tokens by hash', async () => {
    const tokens = new OperatorTokenStore();
    await tokens.insert(t.db, Buffer.alloc(32, 1), 0);
    expect(await tokens.exists(t.db, Buffer.alloc(32, 1))).toBe(true);
    expect(await tokens.exists(t.db, Buffer.alloc(32, 2))).toBe(false);
  });
});
