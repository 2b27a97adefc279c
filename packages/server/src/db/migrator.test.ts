import { expect, it } from 'vitest';
import { openTestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
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
});
