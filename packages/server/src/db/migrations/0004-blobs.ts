import type { Kysely, Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against the schema as it was then, not today's types */

/**
 * Attachments: one row per encrypted blob. Nothing here names an account or device:
 * the server knows a blob's size and lifetime, never who uploaded or fetched it.
 * Booleans are 0/1 like the rest of the schema.
 */
export function blobsMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('blobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('received', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        // Null until the uploader says how many recipient devices will fetch it.
        .addColumn('expected', 'integer')
        .addColumn('releases', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('blobs_expires').on('blobs').column('expires_at').execute();
      await db.schema.createIndex('blobs_incomplete').on('blobs').columns(['complete', 'created_at']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('blobs').execute();
    },
  };
}
