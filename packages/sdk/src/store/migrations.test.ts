import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { openDatabase } from './db.js';
import { currentVersion, LATEST_VERSION, migrate, MIGRATIONS } from './migrations.js';
import { WrongPassphraseError } from '../errors.js';
import { tempDir } from './test-util.js';

const tables = (db: Database) =>
  db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name as string);

function rawDb(path: string, key = 'pw'): Database {
  const db = new Database(path);
  db.pragma(`key = '${key}'`);
  return db;
}

describe('migrations', () => {
  const t = tempDir();
  afterEach(() => {});

  it('are numbered 1..n without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('001 creates the protocol-state tables', () => {
    const db = rawDb(join(t.dir, 'm1.db'));
    migrate(db, 1);
    expect(currentVersion(db)).toBe(1);
    expect(tables(db)).toEqual(['identities', 'kv', 'kyber_prekeys', 'prekeys', 'sender_keys', 'sessions', 'signed_prekeys']);
    db.prepare("INSERT INTO identities VALUES ('a', x'01', 'trusted', NULL, 0, 1, 1)").run();
    expect(() => db.prepare("INSERT INTO identities VALUES ('b', x'01', 'bogus', NULL, 0, 1, 1)").run()).toThrow();
    db.close();
  });

  it('002 adds messaging tables and keeps 001 data', () => {
    const db = rawDb(join(t.dir, 'm2.db'));
    migrate(db, 1);
    db.prepare("INSERT INTO kv VALUES ('account', '{}')").run();
    migrate(db, 2);
    expect(currentVersion(db)).toBe(2);
    expect(tables(db)).toEqual(
      expect.arrayContaining(['contacts', 'messages', 'processed_envelopes', 'sent_content', 'decryption_errors']),
    );
    expect(db.prepare("SELECT value FROM kv WHERE key = 'account'").get()?.value).toBe('{}');
    const ins = db.prepare(
      "INSERT INTO messages (id, conversation, direction, sender_account_id, sender_username, sender_device, timestamp, body, dedupe_key) VALUES (?, 'bob', 'incoming', 'x', 'bob', 1, 1, 'hi', ?)",
    );
    ins.run(['g1', 'k1']);
    expect(() => ins.run(['g1', 'k2'])).toThrow(); // guid unique
    expect(() => ins.run(['g2', 'k1'])).toThrow(); // dedupe key unique
    db.close();
  });

  it('004 adds a nullable event column and leaves older rows without parts', () => {
    const db = rawDb(join(t.dir, 'm4.db'));
    migrate(db, 3);
    db.prepare(
      "INSERT INTO messages (id, conversation, direction, sender_account_id, sender_username, sender_device, timestamp, body, kind) VALUES ('e1', 'bob', 'incoming', 'x', 'bob', 1, 1, 'bob updated the group', 'group-update')",
    ).run();
    migrate(db, 4);
    expect(currentVersion(db)).toBe(4);
    expect(db.prepare("SELECT body, event FROM messages WHERE id = 'e1'").get()).toEqual({ body: 'bob updated the group', event: null });
    db.close();
  });

  it('openDatabase migrates to latest, is idempotent, and rejects a wrong passphrase', () => {
    const p = join(t.dir, 'open.db');
    const db = openDatabase(p, "pa'ss");
    expect(currentVersion(db)).toBe(LATEST_VERSION);
    db.close();
    const again = openDatabase(p, "pa'ss");
    expect(currentVersion(again)).toBe(LATEST_VERSION);
    again.close();
    expect(() => openDatabase(p, 'wrong')).toThrow(WrongPassphraseError);
  });

  it('refuses a database from a newer client', () => {
    const p = join(t.dir, 'newer.db');
    const db = rawDb(p);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    expect(() => openDatabase(p, 'pw')).toThrow(/newer/);
  });
});
