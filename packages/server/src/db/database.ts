import type { Db } from './schema.js';

/**
 * The only dialect-specific surface. Queries are written once against Kysely; what
 * differs between SQLite and PostgreSQL (opening, pragmas, error shapes, column types
 * in migrations) hides behind this.
 */
export interface DatabaseAdapter {
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: Db;
  /** True for a UNIQUE / PRIMARY KEY violation, whatever the driver calls it. */
  isUniqueViolation(err: unknown): boolean;
  /** Column type for raw bytes. */
  readonly bytesType: 'blob' | 'bytea';
  close(): Promise<void>;
}
