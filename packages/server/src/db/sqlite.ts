import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { DatabaseAdapter } from './database.js';
import type { Schema } from './schema.js';

export interface SqliteOptions {
  file: string;
  /** FULL: every commit fsyncs the WAL; NORMAL: survives a process crash, not a power cut. */
  synchronous: 'full' | 'normal';
}

const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely's SQLite driver calls prepare() for every query. Compiling SQL costs more
 * than running a small statement, so prepared statements are cached by SQL text
 * (bounded; the set of distinct SQL strings the server produces is small).
 */
function withStatementCache(raw: Database.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (stmt) return stmt;
      stmt = raw.prepare(sql) as unknown as SqliteStatement;
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(sql, stmt);
      return stmt;
    },
    close() {
      cache.clear();
      raw.close();
    },
  };
}

export function openSqlite(options: SqliteOptions): DatabaseAdapter {
  const raw = new Database(options.file);
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  raw.pragma('foreign_keys = ON');
  // One process owns the file, but a backup tool or sqlite3 shell may hold a lock briefly.
  raw.pragma('busy_timeout = 5000');
  raw.pragma('cache_size = -32000');
  raw.pragma('temp_store = MEMORY');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  let closed = false;
  return {
    dialect: 'sqlite',
    db,
    bytesType: 'blob',
    isUniqueViolation(err: unknown): boolean {
      const code = (err as { code?: unknown } | null)?.code;
      return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
