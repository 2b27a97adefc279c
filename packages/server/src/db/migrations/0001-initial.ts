import { sql, type Kysely, type Migration } from 'kysely';
import type { DatabaseAdapter } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against the schema as it was then, not today's types */

export function initialMigration(adapter: Pick<DatabaseAdapter, 'capabilities' | 'bytesType'>): Migration {
  const bytes = adapter.bytesType;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('brands')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('brand_id', 'text', (c) => c.notNull().references('brands.id'))
        .addColumn('identity_key', bytes, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('devices')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('device_id', 'integer', (c) => c.notNull())
        .addColumn('registration_id', 'integer', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('name', bytes)
        .addColumn('signed_prekey_id', 'integer', (c) => c.notNull())
        .addColumn('signed_prekey', bytes, (c) => c.notNull())
        .addColumn('signed_prekey_signature', bytes, (c) => c.notNull())
        .addColumn('kyber_last_resort_id', 'integer', (c) => c.notNull())
        .addColumn('kyber_last_resort', bytes, (c) => c.notNull())
        .addColumn('kyber_last_resort_signature', bytes, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_day', 'bigint')
        .addPrimaryKeyConstraint('devices_pk', ['account_id', 'device_id'])
        .execute();

      for (const table of ['prekeys', 'kyber_prekeys'] as const) {
        let builder = db.schema
          .createTable(table)
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('device_id', 'integer', (c) => c.notNull())
          .addColumn('key_id', 'integer', (c) => c.notNull())
          .addColumn('public_key', bytes, (c) => c.notNull());
        if (table === 'kyber_prekeys') builder = builder.addColumn('signature', bytes, (c) => c.notNull());
        await builder
          .addPrimaryKeyConstraint(`${table}_pk`, ['account_id', 'device_id', 'key_id'])
          .addForeignKeyConstraint(`${table}_device_fk`, ['account_id', 'device_id'], 'devices', ['account_id', 'device_id'], (c) =>
            c.onDelete('cascade'),
          )
          .execute();
      }

      await db.schema
        .createTable('invite_codes')
        .addColumn('code_hash', bytes, (c) => c.primaryKey())
        .addColumn('brand_id', 'text', (c) => c.notNull().references('brands.id'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('used_at', 'bigint')
        .execute();

      await db.schema
        .createTable('operator_tokens')
        .addColumn('token_hash', bytes, (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('link_codes')
        .addColumn('code_hash', bytes, (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('public_key', bytes)
        .addColumn('sealed', bytes)
        .addColumn('device_id', 'integer')
        .execute();
      await db.schema.createIndex('link_codes_expiry').on('link_codes').column('expires_at').execute();

      // No foreign key to devices: removal deletes a device's queue explicitly, and the
      // hot insert path is spared a lookup per row.
      await db.schema
        .createTable('envelopes')
        .addColumn('id', adapter.capabilities.identityColumns ? 'bigint' : 'integer', (c) =>
          // By default, not always: ids may come from DatabaseAdapter.allocateIds.
          adapter.capabilities.identityColumns ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('guid', 'text', (c) => c.notNull().unique())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'integer', (c) => c.notNull())
        .addColumn('type', 'integer', (c) => c.notNull())
        .addColumn('source_account', 'text')
        .addColumn('source_device', 'integer')
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('server_timestamp', 'bigint', (c) => c.notNull())
        .addColumn('content', bytes, (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('envelopes_queue').on('envelopes').columns(['account_id', 'device_id', 'id']).execute();
      await db.schema.createIndex('envelopes_expiry').on('envelopes').column('expires_at').execute();
    },

    async down(db: Kysely<any>) {
      for (const table of ['envelopes', 'link_codes', 'operator_tokens', 'invite_codes', 'kyber_prekeys', 'prekeys', 'devices', 'accounts', 'brands']) {
        await sql`drop table if exists ${sql.table(table)}`.execute(db);
      }
    },
  };
}
