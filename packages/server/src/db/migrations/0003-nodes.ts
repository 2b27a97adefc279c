import type { Kysely, Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against the schema as it was then, not today's types */

/**
 * The nodes registry (issue 5): one row per kluis node, upserted by the node itself
 * every few seconds. Health is judged by the reader from heartbeat_at, so a node that
 * died without a word shows as down. Booleans are 0/1 like the rest of the schema.
 */
export function nodesMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('nodes')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('region', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .addColumn('connections', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('ready', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('draining', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('nodes').execute();
    },
  };
}
