import type { Db } from './db.js';
import { u8, type Bytes } from './protocol-store.js';

/**
 * The receive side's two tables (migration 5). `inbox`: messages stage 1 decrypted, committed
 * and acked, that stage 2 has not applied yet, in arrival order. `dead_letters`: messages
 * stage 2 gave up on — no content (a seized device shows only that something from that
 * sender could not be shown, which the marker in the conversation says anyway).
 */

export interface InboxEntry {
  guid: string;
  sourceAccount: string;
  sourceDevice: number;
  serverTimestamp: number;
  /** The envelope was sealed: kept with the message, as stage 1 saw it, for stage 2 to decide by. */
  sealed: boolean;
  /** The envelope was a sender-key (group) ciphertext. */
  viaSenderKey: boolean;
  /** The decrypted Content, as received (protobuf bytes). */
  content: Bytes;
}

export interface InboxRow extends InboxEntry {
  /** Arrival order. */
  id: number;
  /** Application attempts so far, each recorded before it ran (so a crash counts too). */
  attempts: number;
  receivedAt: number;
}

export interface DeadLetterRow {
  guid: string;
  /** Where the "could not be shown" marker went, if the conversation could be told. */
  conversation: string | null;
  sourceAccount: string;
  sourceDevice: number;
  serverTimestamp: number;
  attempts: number;
  failedAt: number;
}

export class InboxStore {
  constructor(
    readonly db: Db,
    private readonly now: () => number,
  ) {}

  put(e: InboxEntry): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO inbox (guid, source_account, source_device, server_timestamp, sealed, via_sender_key, content, received_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run([e.guid, e.sourceAccount, e.sourceDevice, e.serverTimestamp, e.sealed ? 1 : 0, e.viaSenderKey ? 1 : 0, e.content, this.now()]);
  }

  /** The oldest row not yet applied. */
  next(): InboxRow | undefined {
    const r = this.db.prepare('SELECT * FROM inbox ORDER BY id LIMIT 1').get();
    return r ? inboxRow(r) : undefined;
  }

  /** Counts one more attempt (outside any transaction, so it stays even if the attempt fails); returns the new count. */
  recordAttempt(id: number): number {
    const r = this.db.prepare('UPDATE inbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts').get([id]);
    return r ? Number(r.attempts) : 0;
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM inbox WHERE id = ?').run([id]);
  }

  count(): number {
    return Number(this.db.prepare('SELECT count(*) AS n FROM inbox').get()!.n);
  }

  /** Moves a row to the dead letters, keeping no content. Call inside a transaction with the marker. */
  bury(row: InboxRow, conversation: string | null): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO dead_letters (guid, conversation, source_account, source_device, server_timestamp, attempts, failed_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run([row.guid, conversation, row.sourceAccount, row.sourceDevice, row.serverTimestamp, row.attempts, this.now()]);
    this.delete(row.id);
  }

  deadLetters(): DeadLetterRow[] {
    return this.db
      .prepare('SELECT * FROM dead_letters ORDER BY failed_at, rowid')
      .all()
      .map((r) => ({
        guid: r.guid as string,
        conversation: (r.conversation as string | null) ?? null,
        sourceAccount: r.source_account as string,
        sourceDevice: Number(r.source_device),
        serverTimestamp: Number(r.server_timestamp),
        attempts: Number(r.attempts),
        failedAt: Number(r.failed_at),
      }));
  }

  countDeadLetters(): number {
    return Number(this.db.prepare('SELECT count(*) AS n FROM dead_letters').get()!.n);
  }
}

function inboxRow(r: Record<string, unknown>): InboxRow {
  return {
    id: Number(r.id),
    guid: r.guid as string,
    sourceAccount: r.source_account as string,
    sourceDevice: Number(r.source_device),
    serverTimestamp: Number(r.server_timestamp),
    sealed: Number(r.sealed) === 1,
    viaSenderKey: Number(r.via_sender_key) === 1,
    content: u8(r.content),
    attempts: Number(r.attempts),
    receivedAt: Number(r.received_at),
  };
}
