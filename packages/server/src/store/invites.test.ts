import { afterEach, beforeEach, expect, it } from 'vitest';
import { hashCode, INVITE_CODE_LENGTH, newCode } from '../auth/secrets.js';
import { openTestDb, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { InviteStore } from './invites.js';

let t: TestDb;
const store = new InviteStore();
const DAY = 86_400_000;

describeStores('InviteStore', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
    await t.db.insertInto('brands').values({ id: 'b', name: 'b', created_at: 0 }).execute();
  });
  afterEach(() => t.close());

  it('consumes a code once, keeping only the day it was used', async () => {
    const code = newCode(INVITE_CODE_LENGTH);
    await store.insert(t.db, [{ codeHash: code.hash, brandId: 'b', createdAt: 1, expiresAt: null }]);
    expect(await store.consume(t.db, hashCode(code.display.toLowerCase()), 3 * DAY + 12345)).toEqual({ brandId: 'b', planId: null });
    expect(await store.consume(t.db, code.hash, 3 * DAY + 99999)).toBeUndefined();
    expect((await store.get(t.db, code.hash))?.usedAt).toBe(3 * DAY);
  });

  it('refuses expired codes', async () => {
    const code = newCode(INVITE_CODE_LENGTH);
    await store.insert(t.db, [{ codeHash: code.hash, brandId: 'b', createdAt: 1, expiresAt: 1000 }]);
    expect(await store.consume(t.db, code.hash, 1000)).toBeUndefined();
    expect(await store.consume(t.db, code.hash, 999)).toEqual({ brandId: 'b', planId: null });
  });

  it('inserts large batches and stores no plaintext code', async () => {
    const codes = Array.from({ length: 450 }, () => newCode(INVITE_CODE_LENGTH));
    await store.insert(t.db, codes.map((c) => ({ codeHash: c.hash, brandId: 'b', createdAt: 1, expiresAt: null })));
    const rows = await t.db.selectFrom('invite_codes').selectAll().execute();
    expect(rows).toHaveLength(450);
    expect(Object.keys(rows[0]!).sort()).toEqual(['batch_id', 'brand_id', 'code_hash', 'created_at', 'expires_at', 'id', 'plan_id', 'revoked_at', 'source', 'type', 'used_at']);
    expect(rows[0]!.code_hash).toHaveLength(32);
  });
});
