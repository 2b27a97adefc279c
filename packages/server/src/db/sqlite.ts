import Database from 'better-sqlite3';
import { Kysely, sql, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { UnsupportedCapabilityError, type DatabaseAdapter } from './database.js';
import type { Schema } from './schema.js';
import { Checkpointer } from './checkpointer.js';
import { WalSync } from './wal-sync.js';
import { GatedSqliteDialect, WriteGate } from './write-gate.js';

export interface SqliteOptions {
  file: string;
  /**
   * 'full': syncCommitted() waits until the WAL is on disk (power-cut safe; done off the
   * event loop, see wal-sync.ts). 'normal': it resolves at once; commits survive a
   * process crash (they are in the OS page cache) but not a power cut.
   */
  synchronous: 'full' | 'normal';
  /** Told about background trouble (the server logs it). */
  onError?: (message: string, err: unknown) => void;
}

const CHECKPOINT_INTERVAL_MS = 200;

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
      // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, IOERR,
      // NOMEM): Kysely's ROLLBACK after that would throw "cannot rollback - no transaction
      // is active", hiding the real error (a full disk) behind a new one for every batch.
      if (sql === 'rollback' && !raw.inTransaction) return NOTHING_TO_ROLL_BACK;
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

const NOTHING_TO_ROLL_BACK: SqliteStatement = {
  reader: false,
  all: () => [],
  run: () => ({ changes: 0, lastInsertRowid: 0 }),
  iterate: () => [][Symbol.iterator](),
};

export function openSqlite(options: SqliteOptions): DatabaseAdapter {
  const raw = new Database(options.file);
  raw.pragma('journal_mode = WAL');
  // NORMAL in both modes: for 'full' the WAL is fsynced by WalSync, not inside COMMIT.
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  // Deleted rows (acked envelopes, used prekeys, redeemed codes) are overwritten with
  // zeros, not left readable in free pages; the WAL's copies go with TRUNCATE checkpoints
  // (checkpointer.ts).
  raw.pragma('secure_delete = ON');
  // One process owns the file, but a backup tool or sqlite3 shell may hold a lock briefly.
  raw.pragma('busy_timeout = 5000');
  raw.pragma('cache_size = -32000');
  raw.pragma('temp_store = MEMORY');
  // Checkpoints run on a worker (checkpointer.ts); the WAL file is cut back when reused.
  raw.pragma('wal_autocheckpoint = 0');
  raw.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const gate = new WriteGate();
  const checkpointer = new Checkpointer(
    options.file,
    CHECKPOINT_INTERVAL_MS,
    (err) => {
      if (closed) return;
      raw.pragma('wal_autocheckpoint = 1000');
      options.onError?.('background checkpoints failed; checkpointing inline', err);
    },
    { writes: { pause: () => gate.pause() } },
  );
  const db = new Kysely<Schema>({ dialect: new GatedSqliteDialect({ database: withStatementCache(raw) }, gate) });
  const walSync = options.synchronous === 'full' ? new WalSync(options.file) : undefined;
  let closed = false;
  return {
    dialect: 'sqlite',
    db,
    // One process owns the file (WAL, no second writer).
    capabilities: { sharedQueue: false, identityColumns: false, rowidTables: true },
    bytesType: 'blob',
    isUniqueViolation(err: unknown): boolean {
      const code = (err as { code?: unknown } | null)?.code;
      return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
    },
    syncCommitted(): Promise<void> {
      return walSync ? walSync.sync() : Promise.resolve();
    },
    // Nothing to race: the only writer.
    withMigrationLock: (fn) => fn(),
    // The same: no other node can be running the job.
    tryWithJobLock: async (_job, fn) => ({ ran: true, value: await fn() }),
    allocateIds: () => Promise.reject(new UnsupportedCapabilityError('shared queue ids (EnvelopeStore counts them itself)')),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (closed) return;
      closed = true;
      await checkpointer.stop();
      await walSync?.close();
      await db.destroy();
    },
  };
}
