import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import Database from '@signalapp/sqlcipher';
import { WrongPassphraseError } from '../errors.js';
import { migrate } from './migrations.js';

export type Db = Database;

/**
 * Opens (creating if needed) the SQLCipher database at `path`, keyed by `passphrase`, and
 * runs pending migrations. A wrong passphrase throws WrongPassphraseError.
 */
export function openDatabase(path: string, passphrase: string): Db {
  const fresh = path !== ':memory:' && !existsSync(path);
  const db = new Database(path, { cacheStatements: true });
  try {
    // sqlcipher prints HMAC failures on a wrong key to stderr; we report WrongPassphraseError instead.
    db.pragma('cipher_log_level = NONE');
    db.pragma(`key = '${passphrase.replace(/'/g, "''")}'`);
    try {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_NOTADB') throw new WrongPassphraseError();
      throw e;
    }
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before we ack the envelope to the server.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  if (fresh) {
    try {
      chmodSync(path, 0o600);
    } catch {
      /* best effort */
    }
  }
  return db;
}

export function ensureProfileDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}
