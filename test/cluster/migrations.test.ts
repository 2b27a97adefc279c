import { afterAll, describe, expect, inject, it } from 'vitest';
import { migrateToLatest } from '../../packages/server/src/db/migrator.js';
import { openPostgres } from '../../packages/server/src/db/postgres.js';
import type { DatabaseAdapter } from '../../packages/server/src/db/database.js';
import pg from 'pg';

const adapters: DatabaseAdapter[] = [];
afterAll(async () => {
  for (const a of adapters) await a.close();
});

describe('migrations on a shared PostgreSQL', () => {
  it('run exactly once when several nodes start together', async () => {
    const admin = new pg.Client({ connectionString: inject('kluisPostgresUrl') });
    await admin.connect();
    await admin.query('create database kluis_concurrent_migrations');
    await admin.end();
    const url = new URL(inject('kluisPostgresUrl'));
    url.pathname = '/kluis_concurrent_migrations';
    for (let i = 0; i < 4; i++) adapters.push(openPostgres({ url: url.toString(), poolSize: 2 }));
    const applied = await Promise.all(adapters.map((a) => migrateToLatest(a)));
    // One node applied every migration; the others waited on the lock and found none left.
    const nonEmpty = applied.filter((names) => names.length > 0);
    expect(nonEmpty).toHaveLength(1);
    expect(nonEmpty[0]![0]).toBe('0001-initial');
    const tables = (await adapters[0]!.db.introspection.getTables()).map((t) => t.name);
    expect(tables).toContain('envelopes');
  });
});
