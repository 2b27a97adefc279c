import type { Kysely, Migration } from 'kysely';
import type { DatabaseAdapter } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against the schema as it was then, not today's types */

/**
 * Sealed sender: each account's unidentified-access key (derived by the client from its
 * profile key) and whether it accepts sealed messages from anyone; and the deployment's
 * server certificate with its signing key (the trust root's private key is never here).
 */
export function accessKeysMigration(adapter: Pick<DatabaseAdapter, 'bytesType'>): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('accounts').addColumn('access_key', adapter.bytesType).execute();
      await db.schema
        .alterTable('accounts')
        .addColumn('unrestricted_access', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('sealed_sender_keys')
        .addColumn('key_id', 'integer', (c) => c.primaryKey())
        .addColumn('trust_root', adapter.bytesType, (c) => c.notNull())
        .addColumn('certificate', adapter.bytesType, (c) => c.notNull())
        .addColumn('private_key', adapter.bytesType, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('sealed_sender_keys').execute();
      await db.schema.alterTable('accounts').dropColumn('unrestricted_access').execute();
      await db.schema.alterTable('accounts').dropColumn('access_key').execute();
    },
  };
}
