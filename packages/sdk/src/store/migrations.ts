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
  {
    version: 3,
    name: 'conversations: groups, reactions, receipts, edits, timers, gaps, profiles, search',
    up(db) {
      db.exec(`
        CREATE TABLE conversations (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
          peer_account_id TEXT,
          expire_timer INTEGER NOT NULL DEFAULT 0,
          next_counter INTEGER NOT NULL DEFAULT 1,
          last_read_at INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL
        );
        ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
        ALTER TABLE messages ADD COLUMN group_id TEXT;
        ALTER TABLE messages ADD COLUMN counter INTEGER;
        ALTER TABLE messages ADD COLUMN attachments TEXT;
        ALTER TABLE messages ADD COLUMN quote TEXT;
        ALTER TABLE messages ADD COLUMN edited_at INTEGER;
        ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN expire_timer INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN expires_at INTEGER;
        ALTER TABLE messages ADD COLUMN read_at INTEGER;
        ALTER TABLE messages ADD COLUMN received_at INTEGER;
        CREATE INDEX messages_target ON messages(conversation, sender_account_id, timestamp);
        CREATE INDEX messages_expiry ON messages(expires_at) WHERE expires_at IS NOT NULL;
        CREATE TABLE message_edits (
          message_id TEXT NOT NULL, edited_at INTEGER NOT NULL, body TEXT NOT NULL,
          PRIMARY KEY (message_id, edited_at)
        );
        CREATE TABLE reactions (
          message_id TEXT NOT NULL, account_id TEXT NOT NULL, emoji TEXT NOT NULL, at INTEGER NOT NULL,
          PRIMARY KEY (message_id, account_id)
        );
        CREATE TABLE receipts (
          message_id TEXT NOT NULL, account_id TEXT NOT NULL,
          type TEXT NOT NULL CHECK (type IN ('delivery', 'read')), at INTEGER NOT NULL,
          PRIMARY KEY (message_id, account_id, type)
        );
        CREATE TABLE groups (
          id TEXT PRIMARY KEY,
          state BLOB NOT NULL,
          version INTEGER NOT NULL,
          distribution_id TEXT NOT NULL,
          base_state BLOB NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE group_candidates (
          group_id TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL, author TEXT NOT NULL,
          state BLOB NOT NULL, received_at INTEGER NOT NULL,
          PRIMARY KEY (group_id, version, hash)
        );
        CREATE TABLE sender_key_shared (
          group_id TEXT NOT NULL, distribution_id TEXT NOT NULL, address TEXT NOT NULL,
          PRIMARY KEY (group_id, distribution_id, address)
        );
        CREATE TABLE received_counters (
          conversation TEXT NOT NULL, account_id TEXT NOT NULL, device_id INTEGER NOT NULL, highest INTEGER NOT NULL,
          PRIMARY KEY (conversation, account_id, device_id)
        );
        CREATE TABLE gaps (
          conversation TEXT NOT NULL, account_id TEXT NOT NULL, device_id INTEGER NOT NULL, counter INTEGER NOT NULL,
          first_seen INTEGER NOT NULL, requested_at INTEGER, marker_id TEXT,
          PRIMARY KEY (conversation, account_id, device_id, counter)
        );
        CREATE TABLE profiles (
          account_id TEXT PRIMARY KEY, profile_key BLOB, name TEXT, avatar BLOB, version TEXT, fetched_at INTEGER
        );
        CREATE TABLE blocked (account_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
        ALTER TABLE sent_content ADD COLUMN conversation TEXT;
        ALTER TABLE sent_content ADD COLUMN counter INTEGER;
        CREATE INDEX sent_content_counter ON sent_content(conversation, counter);
        CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='rowid', tokenize='unicode61');
        INSERT INTO messages_fts(rowid, body) SELECT rowid, body FROM messages;
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
          INSERT INTO messages_fts(rowid, body) VALUES (new.rowid, new.body);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
          INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
          INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
          INSERT INTO messages_fts(rowid, body) VALUES (new.rowid, new.body);
        END;
        INSERT INTO conversations (id, kind, peer_account_id, created_at)
          SELECT conversation, 'direct', max(peer_account_id), min(timestamp) FROM messages GROUP BY conversation;
      `);
    },
  },
  {
    version: 4,
    name: 'messages: structured event parts (JSON), so a UI can translate events',
    up(db) {
      // Older events keep NULL: they are shown from their English body.
      db.exec('ALTER TABLE messages ADD COLUMN event TEXT;');
    },
  },
  {
    version: 5,
    name: 'two-stage receive: inbox of decrypted, not yet applied messages; dead letters',
    up(db) {
      // inbox: what stage 1 decrypted and acked, until stage 2 applied it (the row goes in the
      // same transaction). dead_letters: no content, only what the "could not be shown" marker needs.
      db.exec(`
        CREATE TABLE inbox (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          guid TEXT NOT NULL UNIQUE,
          source_account TEXT NOT NULL,
          source_device INTEGER NOT NULL,
          server_timestamp INTEGER NOT NULL,
          sealed INTEGER NOT NULL,
          via_sender_key INTEGER NOT NULL,
          content BLOB NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          received_at INTEGER NOT NULL
        );
        CREATE TABLE dead_letters (
          guid TEXT PRIMARY KEY,
          conversation TEXT,
          source_account TEXT NOT NULL,
          source_device INTEGER NOT NULL,
          server_timestamp INTEGER NOT NULL,
          attempts INTEGER NOT NULL,
          failed_at INTEGER NOT NULL
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
