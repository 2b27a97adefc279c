import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { AccountStore, SubscriptionStore } from './accounts.js';
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
    const a = { id: '11111111-1111-4111-8111-111111111111', username: 'alice', brandId: 'b', identityKey: Buffer.alloc(33, 1), createdAt: Date.UTC(2026, 0, 10) };
    await accounts.insert(t.db, a);
    expect(await accounts.byId(t.db, a.id)).toEqual(a);
    expect(await accounts.byUsername(t.db, 'alice')).toEqual(a);
    const dup = accounts.insert(t.db, { ...a, id: '22222222-2222-4222-8222-222222222222' });
    await expect(dup).rejects.toSatisfy((e) => t.adapter.isUniqueViolation(e));
    await accounts.setIdentityKey(t.db, a.id, Buffer.alloc(33, 2));
    expect((await accounts.byId(t.db, a.id))?.identityKey).toEqual(Buffer.alloc(33, 2));
  });

  it('keeps account times to the day: created on its day, paid-until rounded up to the end of its day', async () => {
    await brands.insert(t.db, { id: 'b', name: 'b', createdAt: 0 });
    const subs = new SubscriptionStore();
    const id = '33333333-3333-4333-8333-333333333333';
    const created = Date.UTC(2026, 0, 10, 13, 14, 15, 678);
    await accounts.insert(t.db, { id, username: 'carol', brandId: 'b', identityKey: Buffer.alloc(33, 1), createdAt: created, paidUntil: Date.UTC(2026, 1, 9, 13, 14, 15, 678) });
    const row = () => t.db.selectFrom('accounts').select(['created_at', 'paid_until', 'purged_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(Number((await row()).created_at)).toBe(Date.UTC(2026, 0, 10));
    expect((await accounts.byId(t.db, id))?.createdAt).toBe(Date.UTC(2026, 0, 10));
    // Up, never down: the subscriber keeps every paid millisecond and at most a day more.
    expect(Number((await row()).paid_until)).toBe(Date.UTC(2026, 1, 10) - 1);
    await subs.setPaidUntil(t.db, id, Date.UTC(2026, 2, 11, 0, 0, 0, 1));
    expect((await subs.get(t.db, id))?.paidUntil).toBe(Date.UTC(2026, 2, 12) - 1);
    // Already at the end of a day: unchanged (renewals from it do not creep).
    await subs.setPaidUntil(t.db, id, Date.UTC(2026, 2, 12) - 1);
    expect((await subs.get(t.db, id))?.paidUntil).toBe(Date.UTC(2026, 2, 12) - 1);
    await subs.setSuspended(t.db, id, created + 86_400_000);
    expect((await subs.get(t.db, id))?.suspendedAt).toBe(Date.UTC(2026, 0, 12) - 1);
    await subs.setSuspended(t.db, id, null);
    expect((await subs.get(t.db, id))?.suspendedAt).toBeNull();
    await subs.markPurged(t.db, id, created + 40 * 86_400_000);
    expect(Number((await row()).purged_at)).toBe(Date.UTC(2026, 1, 19));
    await accounts.insert(t.db, { id: '44444444-4444-4444-8444-444444444444', username: 'dave', brandId: 'b', identityKey: Buffer.alloc(33, 1), createdAt: created });
    expect((await subs.get(t.db, '44444444-4444-4444-8444-444444444444'))?.paidUntil).toBeNull();
  });

  it('checks operator tokens by hash', async () => {
    const tokens = new OperatorTokenStore();
    await tokens.insert(t.db, Buffer.alloc(32, 1), 0);
    expect(await tokens.exists(t.db, Buffer.alloc(32, 1))).toBe(true);
    expect(await tokens.exists(t.db, Buffer.alloc(32, 2))).toBe(false);
  });
});
