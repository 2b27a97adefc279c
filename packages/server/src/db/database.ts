import type { Db, Executor } from './schema.js';

/**
 * The only dialect-specific surface. Queries are written once against Kysely; what
 * differs between SQLite and PostgreSQL (opening, pragmas, error shapes, column types
 * in migrations, how a commit becomes durable) hides behind this.
 */
export interface DatabaseAdapter {
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: Db;
  /** Column type for raw bytes. */
  readonly bytesType: 'blob' | 'bytea';
  /**
   * Runs `fn` (the migrations) while holding a lock that every node sharing this
   * database respects: PostgreSQL takes an advisory lock; SQLite has one writer process.
   */
  withMigrationLock<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs a cluster-wide job (expiry, retention) unless another node is running it
   * right now: PostgreSQL takes a session advisory lock without waiting (released when
   * the job ends, or when the holding node dies and its connection drops); SQLite has
   * one process, so it always runs. Returns `{ ran: false }` when skipped.
   */
  tryWithJobLock<T>(job: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  /** True for a UNIQUE / PRIMARY KEY violation, whatever the driver calls it. */
  isUniqueViolation(err: unknown): boolean;
  /**
   * Resolves once every transaction committed so far survives a power cut. Commits
   * themselves need not wait for the disk; whoever acknowledges something durable to a
   * client awaits this first (off the event loop, shared by concurrent callers).
   */
  syncCommitted(): Promise<void>;
  /**
   * Ids (queue positions) for `count` new envelope rows, where several processes write
   * the same database (e.g. from a PostgreSQL sequence). Absent: the store is this
   * process's alone and EnvelopeStore counts itself (no RETURNING round trip).
   */
  allocateIds?(ex: Executor, table: 'envelopes', count: number): Promise<number[]>;
  close(): Promise<void>;
}

/** A transaction that is durable when the promise resolves. */
export async function durableTransaction<T>(adapter: DatabaseAdapter, fn: (trx: Executor) => Promise<T>): Promise<T> {
  const result = await adapter.db.transaction().execute(fn);
  await adapter.syncCommitted();
  return result;
}
