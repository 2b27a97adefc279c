import type { Kysely, Migration } from 'kysely';
import type { DatabaseAdapter } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against the schema as it was then, not today's types */

/**
 * Encrypted profiles: one opaque ciphertext per account, with the client's version id.
 * The cascade is a backstop; deleting an account also removes the row explicitly.
 */
export function profilesMigration(adapter: Pick<DatabaseAdapter, 'bytesType'>): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('profiles')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('ciphertext', adapter.bytesType, (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('profiles').execute();
    },
  };
}
