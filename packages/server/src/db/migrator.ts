import { Migrator, type Migration } from 'kysely';
import type { DatabaseAdapter } from './database.js';
import { initialMigration } from './migrations/0001-initial.js';
import { operatorMigration } from './migrations/0002-operator.js';
import { nodesMigration } from './migrations/0003-nodes.js';
import { blobsMigration } from './migrations/0004-blobs.js';
import { profilesMigration } from './migrations/0005-profiles.js';
import { accessKeysMigration } from './migrations/0006-access-keys.js';
import { blobMetadataMigration } from './migrations/0008-blob-metadata.js';
import { coarseTimesMigration } from './migrations/0009-coarse-times.js';

/** Numbered, append-only: never edit a released migration, add the next number. */
export function migrations(adapter: DatabaseAdapter): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(adapter),
    '0002-operator': operatorMigration(adapter),
    '0003-nodes': nodesMigration(),
    '0004-blobs': blobsMigration(),
    '0005-profiles': profilesMigration(adapter),
    '0006-access-keys': accessKeysMigration(adapter),
    '0008-blob-metadata': blobMetadataMigration(adapter),
    '0009-coarse-times': coarseTimesMigration(),
  };
}

export async function migrateToLatest(adapter: DatabaseAdapter): Promise<string[]> {
  const migrator = new Migrator({
    db: adapter.db,
    provider: { getMigrations: async () => migrations(adapter) },
  });
  // Several nodes may start together against one PostgreSQL: one migrates, the rest wait.
  const { error, results } = await adapter.withMigrationLock(() => migrator.migrateToLatest());
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
