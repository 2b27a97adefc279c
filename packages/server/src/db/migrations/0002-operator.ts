import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Migration } from 'kysely';
import type { DatabaseAdapter } from '../database.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against the schema as it was then, not today's types */

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The operator side (issue 3): brand settings, plans, typed codes (invite / renewal),
 * subscriptions on accounts, admin tokens with roles (replacing operator_tokens), and
 * the audit log. Booleans are integers 0/1 so the same rows read alike on both databases.
 */
export function operatorMigration(adapter: Pick<DatabaseAdapter, 'capabilities' | 'bytesType'>): Migration {
  const bytes = adapter.bytesType;
  return {
    async up(db: Kysely<any>) {
      const brandColumns: Array<[string, 'text' | 'integer' | 'bigint', unknown]> = [
        ['primary_color', 'text', null],
        ['accent_color', 'text', null],
        ['logo_url', 'text', null],
        ['default_language', 'text', 'en'],
        ['members_may_invite', 'integer', 1],
        ['member_invite_quota', 'integer', 3],
        ['grace_days', 'integer', 7],
        ['retention_days', 'integer', 30],
        ['retired_at', 'bigint', null],
      ];
      for (const [name, type, dflt] of brandColumns) {
        await db.schema
          .alterTable('brands')
          .addColumn(name, type, (c) => (dflt === null ? c : c.notNull().defaultTo(dflt)))
          .execute();
      }

      await db.schema
        .createTable('plans')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('brand_id', 'text', (c) => c.notNull().references('brands.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('duration_unit', 'text', (c) => c.notNull())
        .addColumn('duration_count', 'integer', (c) => c.notNull())
        .addColumn('price_cents', 'integer', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .execute();
      await db.schema.createIndex('plans_brand').on('plans').column('brand_id').execute();

      // Codes: still no column that could name an account (see migrator.test.ts).
      await db.schema.alterTable('invite_codes').addColumn('id', 'text').execute();
      await db.schema.alterTable('invite_codes').addColumn('type', 'text', (c) => c.notNull().defaultTo('invite')).execute();
      await db.schema.alterTable('invite_codes').addColumn('plan_id', 'text').execute();
      await db.schema.alterTable('invite_codes').addColumn('batch_id', 'text').execute();
      await db.schema.alterTable('invite_codes').addColumn('source', 'text', (c) => c.notNull().defaultTo('admin')).execute();
      await db.schema.alterTable('invite_codes').addColumn('revoked_at', 'bigint').execute();

      await db.schema.alterTable('accounts').addColumn('paid_until', 'bigint').execute();
      await db.schema.alterTable('accounts').addColumn('suspended_at', 'bigint').execute();
      await db.schema.alterTable('accounts').addColumn('purged_at', 'bigint').execute();
      // A count, never a list: member invites keep no inviter→invitee link.
      await db.schema.alterTable('accounts').addColumn('member_invites_used', 'integer', (c) => c.notNull().defaultTo(0)).execute();

      // Existing data: every brand gets a six-month plan (what kluis' predecessor sold),
      // existing codes and accounts hang off it. Done row by row in JS so the SQL stays portable.
      const now = Date.now();
      const brands = await db.selectFrom('brands').select('id').execute();
      for (const brand of brands as Array<{ id: string }>) {
        const planId = randomUUID();
        await db
          .insertInto('plans')
          .values({ id: planId, brand_id: brand.id, name: '6 months', duration_unit: 'months', duration_count: 6, price_cents: 0, currency: 'EUR', created_at: now, retired_at: null })
          .execute();
        await db.updateTable('invite_codes').set({ plan_id: planId }).where('brand_id', '=', brand.id).execute();
      }
      const codes = (await db.selectFrom('invite_codes').select('code_hash').execute()) as Array<{ code_hash: Buffer }>;
      for (const code of codes) await db.updateTable('invite_codes').set({ id: randomUUID() }).where('code_hash', '=', code.code_hash).execute();
      await db.schema.createIndex('invite_codes_id').on('invite_codes').column('id').unique().execute();
      await db.schema.createIndex('invite_codes_brand').on('invite_codes').columns(['brand_id', 'created_at']).execute();
      await db.updateTable('accounts').set({ paid_until: sql`created_at + ${183 * DAY_MS}` }).execute();

      await db.schema
        .createTable('admin_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('brand_id', 'text', (c) => c.references('brands.id'))
        .addColumn('token_hash', bytes, (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      const old = (await db.selectFrom('operator_tokens').selectAll().execute()) as Array<{ token_hash: Buffer; created_at: number }>;
      for (const t of old) {
        await db
          .insertInto('admin_tokens')
          .values({ id: randomUUID(), name: 'operator (first start)', role: 'operator', brand_id: null, token_hash: t.token_hash, created_at: t.created_at, revoked_at: null })
          .execute();
      }
      await db.schema.dropTable('operator_tokens').execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', adapter.capabilities.identityColumns ? 'bigint' : 'integer', (c) =>
          adapter.capabilities.identityColumns ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('admin_id', 'text', (c) => c.notNull())
        .addColumn('admin_name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('brand_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('audit_log_brand').on('audit_log').columns(['brand_id', 'id']).execute();
    },

    async down() {
      throw new Error('0002-operator cannot be undone: restore a backup instead');
    },
  };
}
