import { sql, type Kysely, type Migration } from 'kysely';
import type { DatabaseAdapter } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against the schema as it was then, not today's types */

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Blob rows that tie no file to a message: the recipient-device count (`expected`) and the
 * release counter go (a blob now lives until its TTL, fetched any number of times), and
 * the times of rows already stored become whole UTC days — created_at down, expires_at
 * up, so no blob expires sooner than it was promised.
 *
 * Where tables have a rowid (SQLite) the table is rebuilt WITHOUT ROWID: a rowid grows
 * with every insert, so it would keep the order blobs were reserved in even with
 * day-rounded times; keyed by the random id alone, rows (and index entries) sort by
 * nothing a holder can use. Without rowids (PostgreSQL) the columns are dropped in place
 * (neither is in an index).
 */
export function blobMetadataMigration(adapter: Pick<DatabaseAdapter, 'capabilities'>): Migration {
  // Literal integers, so both databases divide as integers (a bound JS number may be a REAL in SQLite).
  const day = sql.lit(DAY_MS);
  const almost = sql.lit(DAY_MS - 1);
  return {
    async up(db: Kysely<any>) {
      if (adapter.capabilities.rowidTables) {
        await createBlobsTable(db, 'blobs_next');
        await sql`insert into blobs_next (id, size, received, complete, created_at, expires_at)
          select id, size, received, complete, (created_at / ${day}) * ${day}, ((expires_at + ${almost}) / ${day}) * ${day} from blobs`.execute(db);
        await db.schema.dropTable('blobs').execute();
        await db.schema.alterTable('blobs_next').renameTo('blobs').execute();
        await createIndexes(db);
        return;
      }
      await db.schema.alterTable('blobs').dropColumn('expected').execute();
      await db.schema.alterTable('blobs').dropColumn('releases').execute();
      await sql`update blobs set created_at = (created_at / ${day}) * ${day}, expires_at = ((expires_at + ${almost}) / ${day}) * ${day}`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('blobs').addColumn('expected', 'integer').execute();
      await db.schema
        .alterTable('blobs')
        .addColumn('releases', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}

async function createBlobsTable(db: Kysely<any>, name: string): Promise<void> {
  await db.schema
    .createTable(name)
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('received', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .modifyEnd(sql`without rowid`)
    .execute();
}

async function createIndexes(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('blobs_expires').on('blobs').column('expires_at').execute();
  await db.schema.createIndex('blobs_incomplete').on('blobs').columns(['complete', 'created_at']).execute();
}
