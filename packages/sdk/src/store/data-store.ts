import type { Db } from './db.js';
import { u8, type Bytes } from './protocol-store.js';

/** Everything the client keeps besides libsignal state: kv, contacts, messages, outboxes. */

export type MessageStatus = 'sending' | 'sent' | 'failed';

export interface MessageRow {
  id: string;
  conversation: string;
  peerAccountId: string | null;
  direction: 'incoming' | 'outgoing';
  senderAccountId: string;
  senderUsername: string;
  senderDevice: number;
  timestamp: number;
  serverTimestamp: number | null;
  body: string;
  sync: boolean;
  status: MessageStatus | null;
  /** 'text' (with or without attachments), 'group-update', 'timer', 'missing', 'call'. */
  kind?: MessageKind;
  /** Hex group id for group conversations. */
  groupId?: string | null;
  counter?: number | null;
  /** JSON: StoredAttachment[]. */
  attachments?: string | null;
  /** JSON: StoredQuote. */
  quote?: string | null;
  editedAt?: number | null;
  deleted?: boolean;
  /** Seconds; 0 = not disappearing. */
  expireTimer?: number;
  expiresAt?: number | null;
  readAt?: number | null;
  receivedAt?: number | null;
  /** JSON: ConversationEvent[], for events (body holds the same in English). */
  event?: string | null;
}

export type MessageKind = 'text' | 'group-update' | 'timer' | 'missing' | 'call';

const DEDUPE_KINDS = ['data', 'timer', 'group-update'] as const;
export type DedupeKind = (typeof DEDUPE_KINDS)[number];

/**
 * What makes a stored message unique: its sender's account and device and its timestamp
 * (strictly increasing per device). Every copy of one message — a retry, a resend, a sealed
 * and an identified envelope, a sync copy — has the same key, on the sender's device too.
 */
export function dedupeKey(accountId: string, deviceId: number, timestamp: number, kind: DedupeKind): string {
  return `${accountId}.${deviceId}.${timestamp}.${kind}`;
}

export interface SentContentRow {
  timestamp: number;
  accountId: string;
  content: Bytes;
  createdAt: number;
  resends: number;
}

export interface DecryptionErrorRow {
  guid: string;
  accountId: string;
  deviceId: number;
  timestamp: number;
  registrationId: number | null;
  request: Bytes;
  createdAt: number;
  sentAt: number | null;
}

export class DataStore {
  constructor(
    readonly db: Db,
    private readonly now: () => number,
  ) {}

  // ---- kv (JSON values) ----
  get<T>(key: string): T | undefined {
    const r = this.db.prepare('SELECT value FROM kv WHERE key = ?').get([key]);
    return r ? (JSON.parse(r.value as string) as T) : undefined;
  }
  set(key: string, value: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)').run([key, JSON.stringify(value)]);
  }
  delete(key: string): void {
    this.db.prepare('DELETE FROM kv WHERE key = ?').run([key]);
  }

  // ---- contacts (username <-> account id cache) ----
  putContact(accountId: string, username: string): void {
    this.db
      .prepare('INSERT OR REPLACE INTO contacts (account_id, username, updated_at) VALUES (?, ?, ?)')
      .run([accountId, username, this.now()]);
  }
  accountIdOf(username: string): string | undefined {
    const r = this.db
      .prepare('SELECT account_id FROM contacts WHERE username = ? ORDER BY updated_at DESC LIMIT 1')
      .get([username]);
    return r ? (r.account_id as string) : undefined;
  }
  usernameOf(accountId: string): string | undefined {
    const r = this.db.prepare('SELECT username FROM contacts WHERE account_id = ?').get([accountId]);
    return r ? (r.username as string) : undefined;
  }

  // ---- processed envelopes (dedupe by server guid) ----
  isProcessed(guid: string): boolean {
    return (
      this.db.prepare('SELECT 1 AS x FROM processed_envelopes WHERE guid = ?').get([guid]) !== undefined ||
      this.db.prepare('SELECT 1 AS x FROM messages WHERE id = ?').get([guid]) !== undefined
    );
  }
  markProcessed(guid: string): void {
    this.db.prepare('INSERT OR IGNORE INTO processed_envelopes (guid, processed_at) VALUES (?, ?)').run([guid, this.now()]);
  }

  // ---- messages ----
  /** Inserts unless the id or the dedupe key exists; returns whether a row was added. */
  insertMessage(m: MessageRow, dedupeKey: string | null): boolean {
    const r = this.db
      .prepare(
        'INSERT OR IGNORE INTO messages (id, conversation, peer_account_id, direction, sender_account_id, sender_username, ' +
          'sender_device, timestamp, server_timestamp, body, sync, status, dedupe_key, kind, group_id, counter, attachments, ' +
          'quote, edited_at, deleted, expire_timer, expires_at, read_at, received_at, event) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run([
        m.id,
        m.conversation,
        m.peerAccountId,
        m.direction,
        m.senderAccountId,
        m.senderUsername,
        m.senderDevice,
        m.timestamp,
        m.serverTimestamp,
        m.body,
        m.sync ? 1 : 0,
        m.status,
        dedupeKey,
        m.kind ?? 'text',
        m.groupId ?? null,
        m.counter ?? null,
        m.attachments ?? null,
        m.quote ?? null,
        m.editedAt ?? null,
        m.deleted ? 1 : 0,
        m.expireTimer ?? 0,
        m.expiresAt ?? null,
        m.readAt ?? null,
        m.receivedAt ?? this.now(),
        m.event ?? null,
      ]);
    return r.changes > 0;
  }
  /** A message or event from this sender device with this timestamp is stored already (any copy of it). */
  hasContentFrom(accountId: string, deviceId: number, timestamp: number): boolean {
    const keys = DEDUPE_KINDS.map((k) => dedupeKey(accountId, deviceId, timestamp, k));
    return this.db.prepare('SELECT 1 AS x FROM messages WHERE dedupe_key IN (?, ?, ?)').get(keys) !== undefined;
  }
  setMessageStatus(id: string, status: MessageStatus, serverTimestamp?: number): void {
    this.db
      .prepare('UPDATE messages SET status = ?, server_timestamp = COALESCE(?, server_timestamp) WHERE id = ?')
      .run([status, serverTimestamp ?? null, id]);
  }
  /** An event row's new text and parts (a call entry moving on). */
  updateEvent(id: string, columns: { body: string; event: string }): void {
    this.db.prepare('UPDATE messages SET body = ?, event = ? WHERE id = ?').run([columns.body, columns.event, id]);
  }
  /** The last `limit` call entries, newest first. */
  listCalls(limit: number): MessageRow[] {
    return this.db
      .prepare("SELECT * FROM messages WHERE kind = 'call' ORDER BY rowid DESC LIMIT ?")
      .all([Math.max(1, Math.min(limit, 10_000))])
      .map(messageRow);
  }
  getMessage(id: string): MessageRow | undefined {
    const r = this.db.prepare('SELECT * FROM messages WHERE id = ?').get([id]);
    return r ? messageRow(r) : undefined;
  }
  /** Messages whose id starts with `prefix`, by the primary key's index (a range, not a scan). */
  messagesByIdPrefix(prefix: string, limit: number): MessageRow[] {
    return this.db
      .prepare('SELECT * FROM messages WHERE id >= ? AND id < ? ORDER BY id LIMIT ?')
      .all([prefix, prefix + '\uffff', Math.max(1, Math.min(limit, 1000))])
      .map(messageRow);
  }
  /** The last `limit` messages (optionally of one conversation), oldest first, in arrival order. */
  listMessages(o: { conversation?: string; limit?: number } = {}): MessageRow[] {
    const limit = Math.max(1, Math.min(o.limit ?? 1000, 100_000));
    const rows =
      o.conversation !== undefined
        ? this.db
            .prepare('SELECT * FROM messages WHERE conversation = ? ORDER BY rowid DESC LIMIT ?')
            .all([o.conversation, limit])
        : this.db.prepare('SELECT * FROM messages ORDER BY rowid DESC LIMIT ?').all([limit]);
    return rows.reverse().map(messageRow);
  }

  // ---- sent content (kept ~24 h to answer resend requests) ----
  putSentContent(timestamp: number, accountId: string, content: Bytes, at?: { conversation: string; counter: number }): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO sent_content (timestamp, account_id, content, created_at, resends, conversation, counter) ' +
          'VALUES (?, ?, ?, ?, 0, ?, ?)',
      )
      .run([timestamp, accountId, content, this.now(), at?.conversation ?? null, at?.counter ?? null]);
  }
  /** A sent data message by conversation and counter (answers a ResendRequest). */
  sentByCounter(conversation: string, counter: number): SentContentRow | undefined {
    const r = this.db
      .prepare('SELECT * FROM sent_content WHERE conversation = ? AND counter = ? ORDER BY created_at DESC LIMIT 1')
      .get([conversation, counter]);
    return r ? sentRow(r) : undefined;
  }
  getSentContent(timestamp: number, accountId: string): SentContentRow | undefined {
    // A group message is kept once, under the group's conversation id, not per member.
    const r =
      this.db.prepare('SELECT * FROM sent_content WHERE timestamp = ? AND account_id = ?').get([timestamp, accountId]) ??
      this.db.prepare("SELECT * FROM sent_content WHERE timestamp = ? AND account_id LIKE 'g:%'").get([timestamp]);
    return r ? sentRow(r) : undefined;
  }
  /** The latest message sent to `accountId` (not a group) since `since`: what a resend request without a timestamp asks for. */
  latestSentTo(accountId: string, since: number): SentContentRow | undefined {
    const r = this.db.prepare('SELECT * FROM sent_content WHERE account_id = ? AND created_at >= ? ORDER BY created_at DESC, timestamp DESC LIMIT 1').get([accountId, since]);
    return r ? sentRow(r) : undefined;
  }
  bumpResends(timestamp: number, accountId: string): void {
    this.db.prepare('UPDATE sent_content SET resends = resends + 1 WHERE timestamp = ? AND account_id = ?').run([timestamp, accountId]);
  }

  // ---- decryption errors (outbox of resend requests) ----
  putDecryptionError(e: Omit<DecryptionErrorRow, 'sentAt'>): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO decryption_errors (guid, account_id, device_id, timestamp, registration_id, request, created_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run([e.guid, e.accountId, e.deviceId, e.timestamp, e.registrationId, e.request, e.createdAt]);
  }
  unsentDecryptionErrors(): DecryptionErrorRow[] {
    return this.db
      .prepare('SELECT * FROM decryption_errors WHERE sent_at IS NULL ORDER BY created_at')
      .all()
      .map((r) => ({
        guid: r.guid as string,
        accountId: r.account_id as string,
        deviceId: Number(r.device_id),
        timestamp: Number(r.timestamp),
        registrationId: r.registration_id === null ? null : Number(r.registration_id),
        request: u8(r.request),
        createdAt: Number(r.created_at),
        sentAt: null,
      }));
  }
  markDecryptionErrorSent(guid: string): void {
    this.db.prepare('UPDATE decryption_errors SET sent_at = ? WHERE guid = ?').run([this.now(), guid]);
  }
  countDecryptionErrors(): number {
    return Number(this.db.prepare('SELECT count(*) AS n FROM decryption_errors').get()!.n);
  }

  /** Drops what is only kept for a while: sent content (24 h), processed guids (45 d), sent resend requests (7 d). */
  prune(now = this.now()): void {
    this.db.prepare('DELETE FROM sent_content WHERE created_at < ?').run([now - 24 * 3600_000]);
    this.db.prepare('DELETE FROM processed_envelopes WHERE processed_at < ?').run([now - 45 * 86400_000]);
    this.db.prepare('DELETE FROM decryption_errors WHERE sent_at IS NOT NULL AND sent_at < ?').run([now - 7 * 86400_000]);
  }
}

function sentRow(r: Record<string, unknown>): SentContentRow {
  return {
    timestamp: Number(r.timestamp),
    accountId: r.account_id as string,
    content: u8(r.content),
    createdAt: Number(r.created_at),
    resends: Number(r.resends),
  };
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function messageRow(r: Record<string, unknown>): MessageRow {
  return {
    id: r.id as string,
    conversation: r.conversation as string,
    peerAccountId: (r.peer_account_id as string | null) ?? null,
    direction: r.direction as 'incoming' | 'outgoing',
    senderAccountId: r.sender_account_id as string,
    senderUsername: r.sender_username as string,
    senderDevice: Number(r.sender_device),
    timestamp: Number(r.timestamp),
    serverTimestamp: r.server_timestamp === null || r.server_timestamp === undefined ? null : Number(r.server_timestamp),
    body: r.body as string,
    sync: Number(r.sync) === 1,
    status: (r.status as MessageStatus | null) ?? null,
    kind: ((r.kind as MessageKind | undefined) ?? 'text'),
    groupId: (r.group_id as string | null) ?? null,
    counter: num(r.counter),
    attachments: (r.attachments as string | null) ?? null,
    quote: (r.quote as string | null) ?? null,
    editedAt: num(r.edited_at),
    deleted: Number(r.deleted) === 1,
    expireTimer: Number(r.expire_timer ?? 0),
    expiresAt: num(r.expires_at),
    readAt: num(r.read_at),
    receivedAt: num(r.received_at),
    event: (r.event as string | null) ?? null,
  };
}
