import type { DatabaseAdapter } from './database.js';
import { openPostgres } from './postgres.js';
import { openSqlite } from './sqlite.js';

/**
 * Picks the dialect: a postgres:// URL means the shared cluster store; otherwise the
 * embedded SQLite file (the default). Nothing else in the server looks at the dialect.
 */
export function openDatabase(config: {
  database: string;
  sqliteFile: string;
  sqliteSync: 'full' | 'normal';
  onError?: (message: string, err: unknown) => void;
}): DatabaseAdapter {
  if (isPostgresUrl(config.database)) return openPostgres({ url: config.database });
  return openSqlite({ file: config.sqliteFile, synchronous: config.sqliteSync, onError: config.onError });
}

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}
