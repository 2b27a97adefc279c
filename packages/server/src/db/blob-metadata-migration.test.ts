import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { openTestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { blobMetadataMigration } from './migrations/0008-blob-metadata.js';

describeStores('migration 0008 (blob metadata)', (dialect) => {
  it('drops the recipient count and release counter and rounds stored blob times to whole days', async () => {
    const t = await openTestDb(dialect);
    try {
      const migration = blobMetadataMigration(t.adapter);
      // Back to the rows as 0004 wrote them: millisecond times and counts.
      await migration.down!(t.db);
      const ms = Date.UTC(2026, 0, 10, 13, 14, 15, 678);
      await sql`insert into blobs (id, size, received, complete, created_at, expires_at, expected, releases) values ('AAAAAAAAAAAAAAAAAAAAAA', 10, 10, 1, ${ms}, ${ms + 30 * 86_400_000}, 3, 1)`.execute(t.db);
      await sql`insert into blobs (id, size, received, complete, created_at, expires_at, expected, releases) values ('BBBBBBBBBBBBBBBBBBBBBB', 10, 0, 0, ${Date.UTC(2026, 0, 11)}, ${Date.UTC(2026, 1, 10)}, null, 0)`.execute(t.db);

      await migration.up(t.db);

      const columns = (await t.db.introspection.getTables()).find((x) => x.name === 'blobs')!.columns.map((c) => c.name);
      expect(columns.sort()).toEqual(['complete', 'created_at', 'expires_at', 'id', 'received', 'size']);
      const rows = await t.db.selectFrom('blobs').select(['id', 'created_at', 'expires_at']).orderBy('id').execute();
      expect(rows.map((r) => [r.id, Number(r.created_at), Number(r.expires_at)])).toEqual([
        ['AAAAAAAAAAAAAAAAAAAAAA', Date.UTC(2026, 0, 10), Date.UTC(2026, 1, 10)],
        // Already whole days: unchanged.
        ['BBBBBBBBBBBBBBBBBBBBBB', Date.UTC(2026, 0, 11), Date.UTC(2026, 1, 10)],
      ]);
      const pending = (await sql<{ n: number | string }>`select count(*) as n from blobs where complete = 0 and created_at > 0 and expires_at > 0`.execute(t.db)).rows[0]!;
      expect(Number(pending.n)).toBe(1);
      if (dialect === 'sqlite') {
        // No rowid that grows with each insert: nothing keeps the order blobs were reserved in.
        await expect(sql`select rowid from blobs`.execute(t.db)).rejects.toThrow(/no such column/);
        const names = (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'blobs' and name like 'blobs_%'`.execute(t.db)).rows.map((r) => r.name);
        expect(names.sort()).toEqual(['blobs_expires', 'blobs_incomplete']);
      }
    } finally {
      await t.close();
    }
  });
});
