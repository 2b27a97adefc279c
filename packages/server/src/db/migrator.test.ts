import { expect, it } from 'vitest';
import { openTestDb, seedAccount } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { coarseTimesMigration } from './migrations/0009-coarse-times.js';
import { migrateToLatest } from './migrator.js';

describeStores('migrations', (dialect) => {
  it('create every table once and are idempotent', async () => {
    const t = await openTestDb(dialect);
    try {
      expect(await migrateToLatest(t.adapter)).toEqual([]);
      const tables = (await t.db.introspection.getTables()).map((x) => x.name).sort();
      expect(tables).toEqual(
        ['accounts', 'admin_tokens', 'audit_log', 'blobs', 'brands', 'devices', 'envelopes', 'invite_codes', 'kyber_prekeys', 'link_codes', 'nodes', 'plans', 'prekeys', 'profiles', 'sealed_sender_keys'].sort(),
      );
      const inviteColumns = (await t.db.introspection.getTables()).find((x) => x.name === 'invite_codes')!.columns.map((c) => c.name);
      // Redeemed invites stay unlinkable to the account they created.
      expect(inviteColumns.some((c) => /account/.test(c))).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('0009 rounds stored user times to the day and pseudonymises audit entries of accounts already gone', async () => {
    const t = await openTestDb(dialect);
    try {
      const ms = Date.UTC(2026, 0, 10, 13, 14, 15, 678);
      const day = Date.UTC(2026, 0, 10);
      const [A, B, P] = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'];
      await seedAccount(t.db, A, 'alice');
      await seedAccount(t.db, B, 'bob');
      await seedAccount(t.db, P, 'pat');
      // As rows were written before: milliseconds everywhere.
      await t.db.updateTable('accounts').set({ created_at: ms, paid_until: ms + 30 * 86_400_000 }).execute();
      await t.db.updateTable('accounts').set({ purged_at: ms, suspended_at: ms }).where('id', '=', P).execute();
      await t.db.updateTable('accounts').set({ paid_until: Date.UTC(2026, 1, 9) }).where('id', '=', B).execute();
      await t.db.updateTable('devices').set({ created_at: ms }).execute();
      await t.db.insertInto('profiles').values({ account_id: A, version: 'a'.repeat(64), ciphertext: Buffer.from('x'), updated_at: ms }).execute();
      await t.db.insertInto('link_codes').values({ code_hash: Buffer.alloc(32, 1), account_id: A, created_at: ms, expires_at: ms + 600_000, state: 'waiting', public_key: null, sealed: null, device_id: null }).execute();
      const log = (action: string, target: string) =>
        t.db.insertInto('audit_log').values({ at: ms, admin_id: 'op', admin_name: 'op', role: 'operator', brand_id: 'b', action, target, detail: null }).execute();
      // "carol" was deleted by an admin; the name is nobody's now.
      await log('account.suspend', 'carol');
      await log('account.delete', 'carol');
      await log('account.suspend', 'bob');
      await log('account.delete', 'bob'); // an earlier "bob", deleted; today's bob registered after
      await log('account.suspend', 'bob'); // today's bob
      await log('account.suspend', 'pat'); // purged by retention, row kept
      await log('account.suspend', 'alice');
      await log('brand.create', 'carol'); // a brand slug that happens to equal a name: not an account entry

      await coarseTimesMigration().up(t.db);

      const accounts = await t.db.selectFrom('accounts').select(['id', 'created_at', 'paid_until', 'purged_at', 'suspended_at']).orderBy('id').execute();
      expect(accounts.map((a) => Number(a.created_at))).toEqual([day, day, day]);
      expect(Number(accounts[0]!.paid_until)).toBe(Date.UTC(2026, 1, 10) - 1);
      expect(Number(accounts[1]!.paid_until)).toBe(Date.UTC(2026, 1, 10) - 1); // midnight goes up to the end of that day
      expect(Number(accounts[2]!.purged_at)).toBe(day);
      expect(Number(accounts[2]!.suspended_at)).toBe(day + 86_400_000 - 1);
      expect((await t.db.selectFrom('devices').select('created_at').execute()).map((d) => Number(d.created_at))).toEqual([day, day, day]);
      expect(Number((await t.db.selectFrom('profiles').select('updated_at').executeTakeFirstOrThrow()).updated_at)).toBe(day);
      const link = await t.db.selectFrom('link_codes').select(['created_at', 'expires_at']).executeTakeFirstOrThrow();
      expect([Number(link.created_at), Number(link.expires_at)]).toEqual([day, ms + 600_000]);

      const entries = await t.db.selectFrom('audit_log').select(['action', 'target']).orderBy('id').execute();
      const targets = entries.map((e) => e.target!);
      expect(targets[0]).toMatch(/^deleted-[0-9a-f]{16}$/);
      expect(targets[1]).toBe(targets[0]); // one pseudonym per account
      expect(targets[2]).toMatch(/^deleted-/);
      expect(targets[3]).toBe(targets[2]);
      expect(targets[2]).not.toBe(targets[0]);
      expect(targets[4]).toBe('bob');
      expect(targets[5]).toMatch(/^deleted-/);
      expect(targets[6]).toBe('alice');
      expect(targets[7]).toBe('carol');
    } finally {
      await t.close();
    }
  });
});
