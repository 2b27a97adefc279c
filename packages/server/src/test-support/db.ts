import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseAdapter } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { openPostgres } from '../db/postgres.js';
import { openSqlite } from '../db/sqlite.js';
import { testPostgresUrl, type TestDialect } from './dialects.js';
import { tempDir } from './test-server.js';

export interface TestDb {
  adapter: DatabaseAdapter;
  db: DatabaseAdapter['db'];
  file: string;
  close(): Promise<void>;
}

/**
 * A real, migrated, empty database: a SQLite file in a temp dir, or a fresh database
 * on the test PostgreSQL (one per call, so tests stay independent as with SQLite).
 */
export async function openTestDb(dialect: TestDialect = 'sqlite'): Promise<TestDb> {
  if (dialect === 'postgres') return openPostgresTestDb();
  const dir = await tempDir('kluis-store-test-');
  const file = join(dir, 'kluis.db');
  const adapter = openSqlite({ file, synchronous: 'normal' });
  await migrateToLatest(adapter);
  return {
    adapter,
    db: adapter.db,
    file,
    async close() {
      await adapter.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one statement on the server's admin database (create/drop database cannot be parameterised). */
async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function openPostgresTestDb(): Promise<TestDb> {
  const adminUrl = testPostgresUrl();
  const name = `kluis_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const adapter = openPostgres({ url: url.toString(), poolSize: 4 });
  try {
    await migrateToLatest(adapter);
  } catch (err) {
    await adapter.close();
    throw err;
  }
  return {
    adapter,
    db: adapter.db,
    file: url.toString(),
    async close() {
      await adapter.close();
      // force: a test that failed mid-transaction may leave a session behind.
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

/** An account with a primary device, for store tests that need foreign keys satisfied. */
export async function seedAccount(db: DatabaseAdapter['db'], id: string, username = id.slice(0, 8)): Promise<void> {
  await db.insertInto('brands').values({ id: 'b', name: 'b', created_at: 0 }).onConflict((oc) => oc.doNothing()).execute();
  await db.insertInto('accounts').values({ id, username, brand_id: 'b', identity_key: Buffer.alloc(33, 5), created_at: 0 }).execute();
  await seedDevice(db, id, 1);
}

export async function seedDevice(db: DatabaseAdapter['db'], accountId: string, deviceId: number, registrationId = 100 + deviceId): Promise<void> {
  await db
    .insertInto('devices')
    .values({
      account_id: accountId,
      device_id: deviceId,
      registration_id: registrationId,
      password_hash: 'x',
      name: null,
      signed_prekey_id: 1,
      signed_prekey: Buffer.alloc(33, 1),
      signed_prekey_signature: Buffer.alloc(64, 2),
      kyber_last_resort_id: 2,
      kyber_last_resort: Buffer.alloc(1569, 3),
      kyber_last_resort_signature: Buffer.alloc(64, 4),
      created_at: 0,
      last_seen_day: null,
    })
    .execute();
}
