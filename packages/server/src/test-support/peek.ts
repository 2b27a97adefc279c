import Database from 'better-sqlite3';
import { join } from 'node:path';

/** Reads a running server's SQLite file directly: tests assert on what is really stored. */
export function openSqliteForTest(dataDir: string) {
  const db = new Database(join(dataDir, 'kluis.db'), { readonly: true, fileMustExist: true });
  return {
    count(table: string, accountId: string): number {
      return (db.prepare(`select count(*) as n from ${table} where account_id = ?`).get(accountId) as { n: number }).n;
    },
    all(sqlText: string): Array<Record<string, unknown>> {
      return db.prepare(sqlText).all() as Array<Record<string, unknown>>;
    },
    close: () => db.close(),
  };
}
