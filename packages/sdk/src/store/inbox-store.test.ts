import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase } from './db.js';
import { InboxStore, type InboxEntry } from './inbox-store.js';
import { currentVersion, migrate } from './migrations.js';
import { tempDir } from './test-util.js';
import Database from '@signalapp/sqlcipher';

const t = tempDir();
afterAll(() => t.cleanup());
let n = 0;

const entry = (guid: string, text = 'secret words'): InboxEntry => ({
  guid,
  sourceAccount: 'acc-1',
  sourceDevice: 2,
  serverTimestamp: 1000 + n++,
  sealed: true,
  viaSenderKey: false,
  content: new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>,
});

describe('migration 5', () => {
  it('adds the inbox and the dead letters to a version-4 profile', () => {
    const db = new Database(join(t.dir, 'm5.db'));
    db.pragma("key = 'pw'");
    migrate(db, 4);
    migrate(db, 5);
    expect(currentVersion(db)).toBe(5);
    const cols = (table: string) => db.prepare(`PRAGMA table_info(${table})`).all().map((r) => r.name as string);
    expect(cols('inbox')).toEqual(expect.arrayContaining(['guid', 'source_account', 'content', 'attempts']));
    // A dead letter has nowhere to keep content.
    expect(cols('dead_letters').sort()).toEqual(
      ['attempts', 'conversation', 'failed_at', 'guid', 'server_timestamp', 'source_account', 'source_device'].sort(),
    );
    db.close();
  });
});

describe('InboxStore', () => {
  it('gives rows back in arrival order, once per guid', () => {
    const db = openDatabase(join(t.dir, 'order.db'), 'pw');
    const inbox = new InboxStore(db, Date.now);
    inbox.put(entry('g1', 'one'));
    inbox.put(entry('g2', 'two'));
    inbox.put(entry('g1', 'one again'));
    expect(inbox.count()).toBe(2);
    const first = inbox.next()!;
    expect(first).toMatchObject({ guid: 'g1', sourceAccount: 'acc-1', sourceDevice: 2, sealed: true, viaSenderKey: false, attempts: 0 });
    expect(new TextDecoder().decode(first.content)).toBe('one');
    inbox.delete(first.id);
    expect(inbox.next()!.guid).toBe('g2');
    db.close();
  });

  it('keeps attempts across a restart, and buries a row without its content', () => {
    const path = join(t.dir, 'attempts.db');
    let db = openDatabase(path, 'pw');
    let inbox = new InboxStore(db, () => 5000);
    inbox.put(entry('g1', 'the poisoned text'));
    const id = inbox.next()!.id;
    expect(inbox.recordAttempt(id)).toBe(1);
    expect(inbox.recordAttempt(id)).toBe(2);
    db.close();

    db = openDatabase(path, 'pw');
    inbox = new InboxStore(db, () => 6000);
    const row = inbox.next()!;
    expect(row.attempts).toBe(2);
    expect(inbox.recordAttempt(id)).toBe(3);
    db.transaction(() => inbox.bury({ ...row, attempts: 3 }, 'alice'))();
    expect(inbox.count()).toBe(0);
    expect(inbox.recordAttempt(id)).toBe(0); // gone
    expect(inbox.deadLetters()).toEqual([
      { guid: 'g1', conversation: 'alice', sourceAccount: 'acc-1', sourceDevice: 2, serverTimestamp: row.serverTimestamp, attempts: 3, failedAt: 6000 },
    ]);
    expect(inbox.countDeadLetters()).toBe(1);
    const dump = JSON.stringify(db.prepare('SELECT * FROM dead_letters').all());
    expect(dump).not.toContain('poisoned');
    db.close();
  });
});
