import type { Db } from './db.js';
import { messageRow, type MessageRow } from './data-store.js';
import { u8, type Bytes } from './protocol-store.js';

/**
 * Conversation-level state beside the messages table: timers and counters, reactions,
 * receipts, edits, gaps, groups, profiles and blocks. Plain synchronous SQL, so every
 * method can run inside the receive pipeline's commit transaction.
 */

export interface ConversationRow {
  id: string;
  kind: 'direct' | 'group';
  peerAccountId: string | null;
  expireTimer: number;
  lastReadAt: number;
  createdAt: number;
}

export interface GroupRow {
  id: string;
  state: Bytes;
  version: number;
  distributionId: string;
  /** The state this device started from (creation, or the state that added it). */
  baseState: Bytes;
}

export interface GroupCandidateRow {
  version: number;
  hash: string;
  author: string;
  state: Bytes;
}

export interface ProfileRow {
  accountId: string;
  profileKey: Bytes | null;
  name: string | null;
  avatar: Bytes | null;
  version: string | null;
  fetchedAt: number | null;
}

export interface GapRow {
  conversation: string;
  accountId: string;
  deviceId: number;
  counter: number;
  firstSeen: number;
  requestedAt: number | null;
  markerId: string | null;
}

export class ConversationStore {
  constructor(
    readonly db: Db,
    private readonly now: () => number,
  ) {}

  // ---- conversations ----
  ensure(id: string, kind: 'direct' | 'group', peerAccountId: string | null, defaultTimer = 0): ConversationRow {
    this.db
      .prepare('INSERT OR IGNORE INTO conversations (id, kind, peer_account_id, expire_timer, created_at) VALUES (?, ?, ?, ?, ?)')
      .run([id, kind, peerAccountId, defaultTimer, this.now()]);
    if (peerAccountId) this.db.prepare('UPDATE conversations SET peer_account_id = ? WHERE id = ?').run([peerAccountId, id]);
    return this.get(id)!;
  }
  get(id: string): ConversationRow | undefined {
    const r = this.db.prepare('SELECT * FROM conversations WHERE id = ?').get([id]);
    return r
      ? {
          id: r.id as string,
          kind: r.kind as 'direct' | 'group',
          peerAccountId: (r.peer_account_id as string | null) ?? null,
          expireTimer: Number(r.expire_timer),
          lastReadAt: Number(r.last_read_at),
          createdAt: Number(r.created_at),
        }
      : undefined;
  }
  setTimer(id: string, seconds: number): void {
    this.db.prepare('UPDATE conversations SET expire_timer = ? WHERE id = ?').run([seconds, id]);
  }
  /** Takes this device's next counter in the conversation. */
  takeCounter(id: string): number {
    const r = this.db.prepare('UPDATE conversations SET next_counter = next_counter + 1 WHERE id = ? RETURNING next_counter').get([id]);
    return Number(r!.next_counter) - 1;
  }
  list(): Array<ConversationRow & { unread: number; last: MessageRow | undefined }> {
    const rows = this.db.prepare('SELECT id FROM conversations').all();
    const out = rows.map((r) => {
      const c = this.get(r.id as string)!;
      const unread = Number(
        this.db
          .prepare("SELECT count(*) AS n FROM messages WHERE conversation = ? AND direction = 'incoming' AND read_at IS NULL AND kind = 'text' AND deleted = 0")
          .get([c.id])!.n,
      );
      const lastRow = this.db.prepare('SELECT * FROM messages WHERE conversation = ? ORDER BY rowid DESC LIMIT 1').get([c.id]);
      return { ...c, unread, last: lastRow ? messageRow(lastRow) : undefined };
    });
    return out.sort((a, b) => (b.last?.receivedAt ?? b.createdAt) - (a.last?.receivedAt ?? a.createdAt));
  }

  // ---- messages beyond insert ----
  /** The message a reaction, edit, delete or quote points at: (conversation, author, sender timestamp). */
  findTarget(conversation: string, authorAccountId: string, timestamp: number): MessageRow | undefined {
    const r = this.db
      .prepare("SELECT * FROM messages WHERE conversation = ? AND sender_account_id = ? AND timestamp = ? AND kind = 'text' ORDER BY rowid LIMIT 1")
      .get([conversation, authorAccountId, timestamp]);
    return r ? messageRow(r) : undefined;
  }
  /** Every copy with this author and timestamp (own devices see their own sends as rows too). */
  findByAuthor(authorAccountId: string, timestamp: number): MessageRow[] {
    return this.db
      .prepare('SELECT * FROM messages WHERE sender_account_id = ? AND timestamp = ?')
      .all([authorAccountId, timestamp])
      .map(messageRow);
  }
  applyEdit(messageId: string, oldBody: string, newBody: string, at: number): void {
    this.db.prepare('INSERT OR IGNORE INTO message_edits (message_id, edited_at, body) VALUES (?, ?, ?)').run([messageId, at, oldBody]);
    this.db.prepare('UPDATE messages SET body = ?, edited_at = ? WHERE id = ?').run([newBody, at, messageId]);
  }
  editHistory(messageId: string): Array<{ editedAt: number; body: string }> {
    return this.db
      .prepare('SELECT edited_at, body FROM message_edits WHERE message_id = ? ORDER BY edited_at')
      .all([messageId])
      .map((r) => ({ editedAt: Number(r.edited_at), body: r.body as string }));
  }
  /** Removes a message's content (delete for everyone, disappearing): the row stays as a tombstone. */
  eraseContent(messageId: string): void {
    this.db
      .prepare('UPDATE messages SET body = ?, attachments = NULL, quote = NULL, deleted = 1, expires_at = NULL WHERE id = ?')
      .run(['', messageId]);
    this.db.prepare('DELETE FROM message_edits WHERE message_id = ?').run([messageId]);
    this.db.prepare('DELETE FROM reactions WHERE message_id = ?').run([messageId]);
  }
  deleteMessage(messageId: string): void {
    this.db.prepare('DELETE FROM message_edits WHERE message_id = ?').run([messageId]);
    this.db.prepare('DELETE FROM reactions WHERE message_id = ?').run([messageId]);
    this.db.prepare('DELETE FROM receipts WHERE message_id = ?').run([messageId]);
    this.db.prepare('DELETE FROM messages WHERE id = ?').run([messageId]);
  }
  setAttachments(messageId: string, json: string | null): void {
    this.db.prepare('UPDATE messages SET attachments = ? WHERE id = ?').run([json, messageId]);
  }
  setReaction(messageId: string, accountId: string, emoji: string | null, at: number): void {
    if (emoji === null) this.db.prepare('DELETE FROM reactions WHERE message_id = ? AND account_id = ?').run([messageId, accountId]);
    else
      this.db
        .prepare('INSERT OR REPLACE INTO reactions (message_id, account_id, emoji, at) VALUES (?, ?, ?, ?)')
        .run([messageId, accountId, emoji, at]);
  }
  reactions(messageId: string): Array<{ accountId: string; emoji: string; at: number }> {
    return this.db
      .prepare('SELECT account_id, emoji, at FROM reactions WHERE message_id = ? ORDER BY at')
      .all([messageId])
      .map((r) => ({ accountId: r.account_id as string, emoji: r.emoji as string, at: Number(r.at) }));
  }
  addReceipt(messageId: string, accountId: string, type: 'delivery' | 'read', at: number): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO receipts (message_id, account_id, type, at) VALUES (?, ?, ?, ?)')
        .run([messageId, accountId, type, at]).changes > 0
    );
  }
  receipts(messageId: string): Array<{ accountId: string; type: 'delivery' | 'read'; at: number }> {
    return this.db
      .prepare('SELECT account_id, type, at FROM receipts WHERE message_id = ? ORDER BY at')
      .all([messageId])
      .map((r) => ({ accountId: r.account_id as string, type: r.type as 'delivery' | 'read', at: Number(r.at) }));
  }
  /** Own outgoing messages with this sender timestamp (receipts name messages by timestamp only). */
  outgoingByTimestamp(myAccountId: string, timestamp: number): MessageRow[] {
    return this.db
      .prepare("SELECT * FROM messages WHERE sender_account_id = ? AND timestamp = ? AND direction = 'outgoing'")
      .all([myAccountId, timestamp])
      .map(messageRow);
  }
  /** Marks incoming messages read (up to a time); starts their disappearing timers. Returns them. */
  markRead(conversation: string, upTo: number, at: number): MessageRow[] {
    const rows = this.db
      .prepare(
        "SELECT * FROM messages WHERE conversation = ? AND direction = 'incoming' AND read_at IS NULL AND received_at <= ?",
      )
      .all([conversation, upTo])
      .map(messageRow);
    for (const m of rows) this.startReadTimer(m, at);
    return rows;
  }
  markOneRead(m: MessageRow, at: number): void {
    if (m.readAt === null || m.readAt === undefined) this.startReadTimer(m, at);
  }
  private startReadTimer(m: MessageRow, at: number): void {
    const expiresAt = m.expireTimer && !m.deleted ? at + m.expireTimer * 1000 : null;
    this.db.prepare('UPDATE messages SET read_at = ?, expires_at = COALESCE(expires_at, ?) WHERE id = ?').run([at, expiresAt, m.id]);
  }
  expired(now: number): MessageRow[] {
    return this.db.prepare('SELECT * FROM messages WHERE expires_at IS NOT NULL AND expires_at <= ?').all([now]).map(messageRow);
  }
  nextExpiry(): number | undefined {
    const r = this.db.prepare('SELECT min(expires_at) AS t FROM messages WHERE expires_at IS NOT NULL').get();
    return r?.t === null || r?.t === undefined ? undefined : Number(r.t);
  }
  search(text: string, conversation: string | undefined, limit: number): MessageRow[] {
    // Quote every term: user text is never FTS syntax.
    const terms = text
      .split(/\s+/)
      .filter(Boolean)
      .map((t) => '"' + t.replace(/"/g, '""') + '"')
      .join(' ');
    if (!terms) return [];
    const sql =
      'SELECT m.* FROM messages_fts f JOIN messages m ON m.rowid = f.rowid WHERE messages_fts MATCH ? AND m.deleted = 0' +
      (conversation === undefined ? '' : ' AND m.conversation = ?') +
      ' ORDER BY m.rowid DESC LIMIT ?';
    const args = conversation === undefined ? [terms, limit] : [terms, conversation, limit];
    return this.db.prepare(sql).all(args).reverse().map(messageRow);
  }

  // ---- gaps ----
  highestCounter(conversation: string, accountId: string, deviceId: number): number | undefined {
    const r = this.db
      .prepare('SELECT highest FROM received_counters WHERE conversation = ? AND account_id = ? AND device_id = ?')
      .get([conversation, accountId, deviceId]);
    return r ? Number(r.highest) : undefined;
  }
  setHighestCounter(conversation: string, accountId: string, deviceId: number, highest: number): void {
    this.db
      .prepare('INSERT OR REPLACE INTO received_counters (conversation, account_id, device_id, highest) VALUES (?, ?, ?, ?)')
      .run([conversation, accountId, deviceId, highest]);
  }
  addGap(conversation: string, accountId: string, deviceId: number, counter: number, at: number): void {
    this.db
      .prepare('INSERT OR IGNORE INTO gaps (conversation, account_id, device_id, counter, first_seen) VALUES (?, ?, ?, ?, ?)')
      .run([conversation, accountId, deviceId, counter, at]);
  }
  /** Closes a gap a late message filled; returns the gap if there was one. */
  fillGap(conversation: string, accountId: string, deviceId: number, counter: number): GapRow | undefined {
    const r = this.db
      .prepare('DELETE FROM gaps WHERE conversation = ? AND account_id = ? AND device_id = ? AND counter = ? RETURNING *')
      .get([conversation, accountId, deviceId, counter]);
    return r ? gapRow(r) : undefined;
  }
  gapsOlderThan(t: number): GapRow[] {
    return this.db.prepare('SELECT * FROM gaps WHERE first_seen <= ? AND requested_at IS NULL').all([t]).map(gapRow);
  }
  openGaps(): GapRow[] {
    return this.db.prepare('SELECT * FROM gaps').all().map(gapRow);
  }
  markGapRequested(g: GapRow, at: number, markerId: string): void {
    this.db
      .prepare('UPDATE gaps SET requested_at = ?, marker_id = ? WHERE conversation = ? AND account_id = ? AND device_id = ? AND counter = ?')
      .run([at, markerId, g.conversation, g.accountId, g.deviceId, g.counter]);
  }
  dropGapsBefore(t: number): void {
    this.db.prepare('DELETE FROM gaps WHERE first_seen < ?').run([t]);
  }

  // ---- groups ----
  getGroup(id: string): GroupRow | undefined {
    const r = this.db.prepare('SELECT * FROM groups WHERE id = ?').get([id]);
    return r
      ? {
          id: r.id as string,
          state: u8(r.state),
          version: Number(r.version),
          distributionId: r.distribution_id as string,
          baseState: u8(r.base_state),
        }
      : undefined;
  }
  listGroups(): GroupRow[] {
    return this.db
      .prepare('SELECT id FROM groups ORDER BY updated_at')
      .all()
      .map((r) => this.getGroup(r.id as string)!);
  }
  putGroup(g: GroupRow): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO groups (id, state, version, distribution_id, base_state, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run([g.id, g.state, g.version, g.distributionId, g.baseState, this.now()]);
  }
  addCandidate(groupId: string, c: GroupCandidateRow): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO group_candidates (group_id, version, hash, author, state, received_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run([groupId, c.version, c.hash, c.author, c.state, this.now()]).changes > 0
    );
  }
  candidates(groupId: string): GroupCandidateRow[] {
    return this.db
      .prepare('SELECT version, hash, author, state FROM group_candidates WHERE group_id = ? ORDER BY version, hash')
      .all([groupId])
      .map((r) => ({ version: Number(r.version), hash: r.hash as string, author: r.author as string, state: u8(r.state) }));
  }
  senderKeyShared(groupId: string, distributionId: string): Set<string> {
    return new Set(
      this.db
        .prepare('SELECT address FROM sender_key_shared WHERE group_id = ? AND distribution_id = ?')
        .all([groupId, distributionId])
        .map((r) => r.address as string),
    );
  }
  markSenderKeyShared(groupId: string, distributionId: string, addresses: string[]): void {
    const st = this.db.prepare('INSERT OR IGNORE INTO sender_key_shared (group_id, distribution_id, address) VALUES (?, ?, ?)');
    for (const a of addresses) st.run([groupId, distributionId, a]);
  }
  /** The device at `address` no longer holds our sender keys (new session, or removed), in any group. */
  forgetSenderKeyShared(address: string): void {
    this.db.prepare('DELETE FROM sender_key_shared WHERE address = ?').run([address]);
  }

  // ---- profiles and blocks ----
  getProfile(accountId: string): ProfileRow | undefined {
    const r = this.db.prepare('SELECT * FROM profiles WHERE account_id = ?').get([accountId]);
    return r
      ? {
          accountId: r.account_id as string,
          profileKey: r.profile_key ? u8(r.profile_key) : null,
          name: (r.name as string | null) ?? null,
          avatar: r.avatar ? u8(r.avatar) : null,
          version: (r.version as string | null) ?? null,
          fetchedAt: r.fetched_at === null ? null : Number(r.fetched_at),
        }
      : undefined;
  }
  /** Stores a contact's profile key; returns true when it is new or changed (fetch the profile again). */
  putProfileKey(accountId: string, key: Bytes): boolean {
    const cur = this.getProfile(accountId);
    if (cur?.profileKey && Buffer.from(cur.profileKey).equals(Buffer.from(key))) return false;
    this.db
      .prepare(
        'INSERT INTO profiles (account_id, profile_key) VALUES (?, ?) ON CONFLICT(account_id) DO UPDATE SET profile_key = excluded.profile_key, fetched_at = NULL',
      )
      .run([accountId, key]);
    return true;
  }
  putProfileData(accountId: string, d: { name: string | null; avatar: Bytes | null; version: string | null }): void {
    this.db
      .prepare(
        'INSERT INTO profiles (account_id, name, avatar, version, fetched_at) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT(account_id) DO UPDATE SET name = excluded.name, avatar = excluded.avatar, version = excluded.version, fetched_at = excluded.fetched_at',
      )
      .run([accountId, d.name, d.avatar, d.version, this.now()]);
  }
  isBlocked(accountId: string): boolean {
    return this.db.prepare('SELECT 1 AS x FROM blocked WHERE account_id = ?').get([accountId]) !== undefined;
  }
  setBlocked(accountId: string, blocked: boolean): void {
    if (blocked) this.db.prepare('INSERT OR IGNORE INTO blocked (account_id, at) VALUES (?, ?)').run([accountId, this.now()]);
    else this.db.prepare('DELETE FROM blocked WHERE account_id = ?').run([accountId]);
  }
}

function gapRow(r: Record<string, unknown>): GapRow {
  return {
    conversation: r.conversation as string,
    accountId: r.account_id as string,
    deviceId: Number(r.device_id),
    counter: Number(r.counter),
    firstSeen: Number(r.first_seen),
    requestedAt: r.requested_at === null ? null : Number(r.requested_at),
    markerId: (r.marker_id as string | null) ?? null,
  };
}
