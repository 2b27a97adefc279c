import type { Db, Executor } from './schema.js';

/**
 * What differs between the databases, named for what callers decide by (as Kysely's
 * dialect adapters say `supportsReturning`), so no code asks which database it is.
 */
export interface DatabaseCapabilities {
  /**
   * Several server processes write the envelope queue (every node of a cluster), so
   * queue ids come from a shared sequence (DatabaseAdapter.allocateIds) and need not
   * follow commit order: node A may commit id 101 before node B commits id 100. False:
   * this process is the only writer, EnvelopeStore counts ids itself, and a row with a
   * higher id is never committed before one with a lower id of the same queue.
   */
  readonly sharedQueue: boolean;
  /**
   * Auto-numbered keys are a `bigint ... generated as identity` column. False: they are
   * SQLite's `integer primary key autoincrement` (the rowid itself).
   */
  readonly identityColumns: boolean;
  /**
   * Tables get a hidden rowid that grows with every insert (and so keeps insertion
   * order) unless declared WITHOUT ROWID.
   */
  readonly rowidTables: boolean;
}

/** Asked of an adapter for something its capabilities say it does not do. */
export class UnsupportedCapabilityError extends Error {
  readonly code = 'UNSUPPORTED_CAPABILITY' as const;
  constructor(what: string) {
    super(`this database does not support ${what}`);
    this.name = 'UnsupportedCapabilityError';
  }
}

/**
 * The only dialect-specific surface. Queries are written once against Kysely; what
 * differs between SQLite and PostgreSQL (opening, pragmas, error shapes, column types
 * in migrations, how a commit becomes durable) hides behind this, and code that must
 * choose chooses by `capabilities`.
 */
export interface DatabaseAdapter {
  /** For logs and diagnostics: decisions go by `capabilities`. */
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: Db;
  readonly capabilities: DatabaseCapabilities;
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
   * Ids (queue positions) for `count` new envelope rows from a sequence every writer
   * shares. Only where `capabilities.sharedQueue`; elsewhere it throws
   * UnsupportedCapabilityError (EnvelopeStore counts itself: no round trip).
   */
  allocateIds(ex: Executor, table: 'envelopes', count: number): Promise<number[]>;
  close(): Promise<void>;
}

/** A transaction that is durable when the promise resolves. */
export async function durableTransaction<T>(adapter: DatabaseAdapter, fn: (trx: Executor) => Promise<T>): Promise<T> {
  const result = await adapter.db.transaction().execute(fn);
  await adapter.syncCommitted();
  return result;
}
