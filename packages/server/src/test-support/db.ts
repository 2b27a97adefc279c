import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseAdapter } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { openSqlite } from '../db/sqlite.js';
import { tempDir } from './test-server.js';

export interface TestDb {
  adapter: DatabaseAdapter;
  db: DatabaseAdapter['db'];
  file: string;
  close(): Promise<void>;
}

/** A real, migrated SQLite file in a temp dir. */
export async function openTestDb(): Promise<TestDb> {
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
