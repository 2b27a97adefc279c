import { Migrator, type Migration } from 'kysely';
import type { DatabaseAdapter } from './database.js';
import { initialMigration } from './migrations/0001-initial.js';

/** Numbered, append-only: never edit a released migration, add the next number. */
export function migrations(adapter: DatabaseAdapter): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(adapter),
  };
}

export async function migrateToLatest(adapter: DatabaseAdapter): Promise<string[]> {
  const migrator = new Migrator({
    db: adapter.db,
    provider: { getMigrations: async () => migrations(adapter) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
