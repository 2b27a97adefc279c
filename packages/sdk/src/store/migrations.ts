import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Db): void;
}

/** Numbered, append-only. Each one runs in its own transaction and bumps user_version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'protocol state: kv, sessions, identities, prekeys, sender keys',
    up(db) {
      db.exec(`
        CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE sessions (
          address TEXT PRIMARY KEY,
          account_id TEXT NOT NULL,
          device_id INTEGER NOT NULL,
          record BLOB NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX sessions_account ON sessions(account_id);
        CREATE TABLE identities (
          account_id TEXT PRIMARY KEY,
          public_key BLOB NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('trusted', 'changed-pending')),
          pending_key BLOB,
          verified INTEGER NOT NULL DEFAULT 0,
          first_seen INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE prekeys (id INTEGER PRIMARY KEY, record BLOB NOT NULL, created_at INTEGER NOT NULL);
        CREATE TABLE signed_prekeys (
          id INTEGER PRIMARY KEY, record BLOB NOT NULL, created_at INTEGER NOT NULL, replaced_at INTEGER
        );
        CREATE TABLE kyber_prekeys (
          id INTEGER PRIMARY KEY, record BLOB NOT NULL, last_resort INTEGER NOT NULL,
          created_at INTEGER NOT NULL, replaced_at INTEGER
        );
        CREATE TABLE sender_keys (
          address TEXT NOT NULL, distribution_id TEXT NOT NULL, record BLOB NOT NULL, updated_at INTEGER NOT NULL,
          PRIMARY KEY (address, distribution_id)
        );
      `);
    },
  },
  {
    version: 2,
    name: 'messaging: contacts, messages, processed envelopes, sent content, decryption errors',
    up(db) {
      db.exec(`
        CREATE TABLE contacts (account_id TEXT PRIMARY KEY, username TEXT NOT NULL, updated_at INTEGER NOT NULL);
        CREATE INDEX contacts_username ON contacts(username);
        CREATE TABLE messages (
          id TEXT PRIMARY KEY,
          conversation TEXT NOT NULL,
          peer_account_id TEXT,
          direction TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
          sender_account_id TEXT NOT NULL,
          sender_username TEXT NOT NULL,
          sender_device INTEGER NOT NULL,
          timestamp INTEGER NOT NULL,
          server_timestamp INTEGER,
          body TEXT NOT NULL,
          sync INTEGER NOT NULL DEFAULT 0,
          status TEXT,
          dedupe_key TEXT UNIQUE
        );
        CREATE INDEX messages_conversation ON messages(conversation);
        CREATE TABLE processed_envelopes (guid TEXT PRIMARY KEY, processed_at INTEGER NOT NULL);
        CREATE TABLE sent_content (
          timestamp INTEGER NOT NULL,
          account_id TEXT NOT NULL,
          content BLOB NOT NULL,
          created_at INTEGER NOT NULL,
          resends INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (timestamp, account_id)
        );
        CREATE TABLE decryption_errors (
          guid TEXT PRIMARY KEY,
          account_id TEXT NOT NULL,
          device_id INTEGER NOT NULL,
          timestamp INTEGER NOT NULL,
          registration_id INTEGER,
          request BLOB NOT NULL,
          created_at INTEGER NOT NULL,
          sent_at INTEGER
        );
      `);
    },
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function currentVersion(db: Db): number {
  return Number(db.pragma('user_version', { simple: true }) ?? 0);
}

/** Runs every migration above the current user_version, up to `target` (default: latest). */
export function migrate(db: Db, target = LATEST_VERSION): void {
  const from = currentVersion(db);
  if (from > LATEST_VERSION) {
    throw new Error(`profile database is version ${from}, newer than this client (${LATEST_VERSION}); upgrade kluis`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= from || m.version > target) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
