import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { DatabaseAdapter } from './database.js';
import type { Schema } from './schema.js';

export interface PostgresOptions {
  /** postgres://user:password@host:port/database (libpq URL; ?sslmode etc. pass through). */
  url: string;
  /** Connections per node. Sends are group-committed, so few are needed. */
  poolSize?: number;
}

/*
 * int8 (bigint) columns hold epoch milliseconds and queue ids, far below 2^53, and the
 * stores and SQLite hand them out as numbers. pg returns int8 as strings by default (it
 * cannot know the values are small), so parse them here, per pool, not globally.
 */
const INT8_OID = 20;
const parseInt8 = (value: string) => Number(value);
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Session-level advisory lock key that serialises migrations across nodes ('kluis' as int). */
const MIGRATION_LOCK_KEY = 0x6b6c7569;

export function openPostgres(options: PostgresOptions): DatabaseAdapter {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types,
    // A node must notice a dead database rather than hang: requests fail fast and retry.
    connectionTimeoutMillis: 5_000,
    // Idle connections closed by a restarted server surface as pool 'error' events;
    // without a listener Node would crash the process.
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', () => {
    // The pool drops the broken client and opens a new one on next use.
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    dialect: 'postgres',
    db,
    // Every node of a cluster writes the same queue.
    capabilities: { sharedQueue: true, identityColumns: true, rowidTables: false },
    bytesType: 'bytea',
    isUniqueViolation(err: unknown): boolean {
      // 23505 unique_violation (covers primary keys too).
      return (err as { code?: unknown } | null)?.code === '23505';
    },
    // With synchronous_commit on (the server's default), COMMIT returns only once the
    // WAL is flushed: nothing is left to wait for.
    syncCommitted: () => Promise.resolve(),
    async withMigrationLock<T>(fn: () => Promise<T>): Promise<T> {
      // Held on one dedicated session while migrations run on the pool, so nodes that
      // start together migrate one after another; the later ones find nothing to do.
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          return await fn();
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
      } finally {
        client.release();
      }
    },
    // One round trip for a whole batch. Sequence values are unique across nodes but,
    // unlike a local counter, do not follow commit order between nodes: sockets cope
    // (delivery/rescan-reader.ts re-reads the queue on wake).
    async allocateIds(ex, table, count): Promise<number[]> {
      const { rows } = await sql<{ id: number }>`select nextval(pg_get_serial_sequence(${table}, 'id')) as id from generate_series(1, ${count}) order by 1`.execute(ex);
      return rows.map((r) => Number(r.id));
    },
    async tryWithJobLock<T>(job: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
      // A dedicated session holds the lock; the job's own queries use the pool.
      const client = await pool.connect();
      // A session whose lock state is unknown must not go back to the pool: destroyed,
      // it releases whatever it held.
      let broken: Error | undefined;
      try {
        const key = jobLockKey(job);
        const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [MIGRATION_LOCK_KEY, key]).catch((err: Error) => {
          throw (broken = err);
        });
        if (!rows[0]?.ok) return { ran: false };
        try {
          return { ran: true, value: await fn() };
        } finally {
          await client.query('select pg_advisory_unlock($1, $2)', [MIGRATION_LOCK_KEY, key]).catch((err: Error) => (broken = err));
        }
      } finally {
        client.release(broken);
      }
    },
    async ping(): Promise<void> {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (closed) return;
      closed = true;
      // Destroys the pool too.
      await db.destroy();
    },
  };
}

/** A stable int4 per job name (FNV-1a), the second half of a two-key advisory lock. */
export function jobLockKey(job: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < job.length; i++) h = Math.imul(h ^ job.charCodeAt(i), 0x01000193);
  return h | 0;
}
