import { randomBytes, randomUUID } from 'node:crypto';
import { clone, create } from '@bufbuild/protobuf';
import { decodeContent, encodeContent, MAX_GROUP_MEMBERS, normalizeUsername, pb, PRIMARY_DEVICE_ID, type ContentInit } from '@kluis/protocol';
import type { Ctx } from '../context.js';
import { IdentityChangedError, KluisError } from '../errors.js';
import { describeChange, type GroupBook } from '../groups/group-book.js';
import { GroupRole, isAdmin, leftState, memberOf, type GroupState } from '../groups/group-state.js';
import type { GroupSender } from '../groups/group-sender.js';
import { b64, unb64 } from '../keys.js';
import type { Sender } from '../sender.js';
import { dedupeKey, type MessageRow } from '../store/data-store.js';
import type { Bytes } from '../store/protocol-store.js';
import type { StoredMessage } from '../types.js';
import { eventColumns } from './conversation-events.js';
import { groupConversationId, groupHex, groupIdOf, isGroupConversation } from './ids.js';
import { ReceiptBatcher } from './receipts.js';
import { attachmentRecord, toStored } from './stored.js';

export const MAX_TIMER_SECONDS = 4 * 7 * 86400;
export const MIN_TIMER_SECONDS = 30;

export interface Settings {
  readReceipts: boolean;
  /** Seconds; applied to conversations created from now on. */
  defaultExpireTimer: number;
}

export interface OutgoingParts {
  text?: string;
  attachments?: pb.AttachmentPointer[];
  quote?: { id: number; authorAccountId: string; text: string };
}

export type Peer = { accountId: string; username: string };
export type Target = { kind: 'direct'; conversation: string; peer: Peer } | { kind: 'group'; conversation: string; groupId: string; state: GroupState };

/**
 * The send side of conversations: text and files, replies, reactions, edits, deletes,
 * receipts, typing, timers and group changes, for direct and group conversations alike.
 */
export class Messenger {
  readonly receipts: ReceiptBatcher;

  constructor(
    private readonly ctx: Ctx,
    private readonly sender: Sender,
    private readonly book: GroupBook,
    private readonly groups: GroupSender,
    private readonly resolveUsername: (u: string) => Promise<Peer>,
    private readonly nextTimestamp: () => number,
  ) {
    this.receipts = new ReceiptBatcher((accountId, type, timestamps) =>
      this.ctx.background('receipt', () => this.sendReceipt(accountId, type, timestamps)),
    );
  }

  // ---------------------------------------------------------------- settings and keys

  settings(): Settings {
    return { readReceipts: true, defaultExpireTimer: 0, ...(this.ctx.data.get<Partial<Settings>>('settings') ?? {}) };
  }

  async setSettings(patch: Partial<Settings>): Promise<Settings> {
    if (patch.defaultExpireTimer !== undefined) checkTimer(patch.defaultExpireTimer);
    const next = { ...this.settings(), ...patch };
    this.ctx.data.set('settings', next);
    await this.syncToOwnDevices({
      settings: { readReceipts: next.readReceipts, defaultExpireTimerSeconds: next.defaultExpireTimer },
    });
    return next;
  }

  /**
   * This account's profile key: made on first use by the primary; a linked device gets it
   * with the link, or else from the primary's sync (it never makes one: two keys would
   * split the account's sealed-sender access).
   */
  profileKey(): Uint8Array<ArrayBuffer> | undefined {
    const cur = this.ctx.data.get<string>('profileKey');
    if (cur) return unb64(cur);
    if (this.ctx.me().deviceId !== PRIMARY_DEVICE_ID) return undefined;
    const key = new Uint8Array(randomBytes(32));
    this.ctx.data.set('profileKey', b64(key));
    return key;
  }

  requireProfileKey(): Uint8Array<ArrayBuffer> {
    const key = this.profileKey();
    if (!key) throw new KluisError('NO_PROFILE_KEY', 'this linked device has not received the account’s profile key from the primary yet');
    return key;
  }

  rotateProfileKey(): Uint8Array<ArrayBuffer> {
    const key = new Uint8Array(randomBytes(32));
    this.ctx.data.set('profileKey', b64(key));
    return key;
  }

  // ---------------------------------------------------------------- conversations

  async target(conversation: string): Promise<Target> {
    const gid = groupIdOf(conversation);
    if (gid) {
      const groupId = groupHex(gid);
      const state = this.book.state(groupId);
      if (!state) throw new KluisError('UNKNOWN_GROUP', `no group ${conversation}`);
      return { kind: 'group', conversation, groupId, state };
    }
    if (isGroupConversation(conversation)) throw new KluisError('UNKNOWN_GROUP', `no group ${conversation}`);
    const peer = await this.resolveUsername(conversation);
    if (peer.accountId === this.ctx.me().accountId) throw new KluisError('SELF_SEND', 'sending to yourself is not supported');
    this.ctx.conv.ensure(peer.username, 'direct', peer.accountId, this.settings().defaultExpireTimer);
    return { kind: 'direct', conversation: peer.username, peer };
  }

  /** A data message for `conversation` with our profile key, timer and (when counted) the next counter. */
  baseData(conversation: string, timestamp: number, counted = true): pb.DataMessage {
    const c = this.ctx.conv.get(conversation)!;
    return create(pb.DataMessageSchema, {
      timestamp: BigInt(timestamp),
      counter: counted ? BigInt(this.ctx.conv.takeCounter(conversation)) : 0n,
      senderUsername: this.ctx.me().username,
      expireTimerSeconds: c.expireTimer,
      ...(this.profileKey() ? { profileKey: this.profileKey() } : {}),
    });
  }

  /** Sends text and/or attachments; returns the local message (`id`: its id, else a new one). */
  async send(conversation: string, parts: OutgoingParts, id?: string): Promise<StoredMessage> {
    const t = await this.target(conversation);
    this.assertCanSend(t);
    const timestamp = this.nextTimestamp();
    const d = this.baseData(t.conversation, timestamp);
    if (parts.text !== undefined) d.text = parts.text;
    if (parts.attachments) d.attachments = parts.attachments;
    if (parts.quote) d.quote = create(pb.QuoteSchema, { id: BigInt(parts.quote.id), authorAccountId: parts.quote.authorAccountId, text: parts.quote.text });
    const row = this.outgoingRow(t, d, 'text', { body: parts.text ?? '' }, id);
    if (parts.attachments?.length) row.attachments = JSON.stringify(parts.attachments.map((a) => attachmentRecord(a, 'downloaded')));
    if (parts.quote) row.quote = JSON.stringify(parts.quote);
    // Nothing about the attachments goes to the server after the send: a per-blob count
    // of recipient devices would tell a copy of the database how large the fan-out was.
    await this.deliver(t, d, row);
    return toStored(this.ctx.data.getMessage(row.id)!, this.ctx.conv);
  }

  /**
   * Sends a stored message of ours again exactly as it was (timestamp, counter, content):
   * whoever got the earlier attempt keeps one copy. A message already sent is left as it is.
   */
  async retry(messageId: string): Promise<StoredMessage> {
    const me = this.ctx.me();
    const row = this.ctx.data.getMessage(messageId);
    if (!row) throw new KluisError('UNKNOWN_MESSAGE', `no message ${messageId}`);
    if (row.direction !== 'outgoing' || row.sync || row.kind !== 'text' || row.senderDevice !== me.deviceId)
      throw new KluisError('NOT_YOURS', `${messageId} is not a message this device sent`);
    if (row.status === 'sent' || row.deleted) return this.stored(row.id);
    const t = await this.target(row.conversation);
    this.assertCanSend(t);
    const sent = this.ctx.data.getSentContent(row.timestamp, t.kind === 'group' ? t.conversation : t.peer.accountId);
    const content = sent ? decodeContent(sent.content) : undefined;
    if (!sent || content?.body.case !== 'data' || content.body.value.timestamp !== BigInt(row.timestamp))
      throw new KluisError('TOO_OLD', 'this message is no longer kept for sending again; send it anew');
    const d = content.body.value;
    this.ctx.data.setMessageStatus(row.id, 'sending');
    const sync = { sent: { timestamp: d.timestamp, message: d, ...this.syncDestination(t) } };
    await this.deliverBytes(t, sent.content, row.timestamp, Number(d.counter), sync, row);
    return this.stored(row.id);
  }

  async react(messageId: string, emoji: string, remove = false): Promise<void> {
    const target = this.requireMessage(messageId);
    const t = await this.target(target.conversation);
    this.assertCanSend(t);
    const timestamp = this.nextTimestamp();
    const d = this.baseData(t.conversation, timestamp);
    d.reaction = create(pb.ReactionSchema, {
      emoji,
      remove,
      targetAuthorAccountId: target.senderAccountId,
      targetTimestamp: BigInt(target.timestamp),
    });
    const me = this.ctx.me();
    this.ctx.conv.setReaction(target.id, me.accountId, remove ? null : emoji, timestamp);
    await this.deliver(t, d);
    this.ctx.emit('message-updated', this.stored(target.id));
  }

  async edit(messageId: string, text: string): Promise<void> {
    const target = this.requireOwn(messageId, 'edit');
    const t = await this.target(target.conversation);
    this.assertCanSend(t);
    const timestamp = this.nextTimestamp();
    const d = this.baseData(t.conversation, timestamp);
    d.text = text;
    if (t.kind === 'group') d.group = create(pb.GroupContextSchema, { id: t.state.id, version: t.state.version });
    const edit = create(pb.EditMessageSchema, { targetTimestamp: BigInt(target.timestamp), data: d });
    this.ctx.conv.applyEdit(target.id, target.body, text, timestamp);
    await this.deliverContent(t, { body: { case: 'edit', value: edit } }, timestamp, Number(d.counter), {
      sent: { timestamp: BigInt(timestamp), edit, ...this.syncDestination(t) },
    });
    this.ctx.emit('message-updated', this.stored(target.id));
  }

  async deleteForEveryone(messageId: string): Promise<void> {
    const target = this.requireOwn(messageId, 'delete');
    const t = await this.target(target.conversation);
    this.assertCanSend(t);
    const timestamp = this.nextTimestamp();
    const d = this.baseData(t.conversation, timestamp);
    d.delete = create(pb.DeleteSchema, { targetTimestamp: BigInt(target.timestamp) });
    this.ctx.conv.eraseContent(target.id);
    await this.deliver(t, d);
    this.ctx.emit('message-updated', this.stored(target.id));
  }

  /** Deletes locally, and on this account's other devices. */
  async deleteForMe(messageId: string): Promise<void> {
    const m = this.requireMessage(messageId);
    this.ctx.conv.deleteMessage(m.id);
    this.ctx.emit('message-removed', { id: m.id, conversation: m.conversation });
    await this.syncToOwnDevices({
      deleteForMe: { conversation: m.conversation, targets: [{ senderAccountId: m.senderAccountId, timestamp: BigInt(m.timestamp) }] },
    });
  }

  /** A direct conversation's timer (a group's is part of its state: GroupAdmin.setTimer). */
  async setTimer(t: Extract<Target, { kind: 'direct' }>, seconds: number): Promise<void> {
    checkTimer(seconds);
    // Refused before the local timer changes: both sides keep the same timer.
    this.assertCanSend(t);
    this.ctx.conv.setTimer(t.conversation, seconds);
    const timestamp = this.nextTimestamp();
    const d = this.baseData(t.conversation, timestamp);
    d.expireTimerUpdate = true;
    const row = this.outgoingRow(t, d, 'timer', eventColumns([{ type: 'timer', by: this.ctx.me().username, seconds }]));
    await this.deliver(t, d, row);
  }

  /** Marks a conversation read: read receipts (if enabled), timers start, other devices follow. */
  async markRead(conversation: string): Promise<number> {
    const now = this.ctx.now();
    const rows = this.ctx.conv.markRead(conversation, now, now);
    if (rows.length === 0) return 0;
    if (this.settings().readReceipts)
      for (const m of rows) if (m.kind === 'text') this.receipts.add(m.senderAccountId, pb.ReceiptMessage_Type.READ, m.timestamp);
    for (const m of rows) this.ctx.emit('message-updated', this.stored(m.id));
    await this.syncToOwnDevices({
      read: rows.map((m) => ({ senderAccountId: m.senderAccountId, timestamp: BigInt(m.timestamp) })),
    });
    return rows.length;
  }

  /** Typing indicators are ephemeral: only devices online right now get them. */
  /** Best effort: nothing is sent where a message could not be (blocked, changed key, not a member). */
  async typing(conversation: string, started: boolean): Promise<void> {
    const t = await this.target(conversation);
    try {
      this.assertCanSend(t);
    } catch {
      return;
    }
    const timestamp = this.nextTimestamp();
    const typing = create(pb.TypingMessageSchema, {
      action: started ? pb.TypingMessage_Action.STARTED : pb.TypingMessage_Action.STOPPED,
      timestamp: BigInt(timestamp),
      ...(t.kind === 'group' ? { groupId: t.state.id } : {}),
    });
    const content = encodeContent({ body: { case: 'typing', value: typing } });
    if (t.kind === 'group') await this.groups.sendToGroup(t.groupId, content, timestamp, { online: true });
    else await this.sender.sendToAccount(t.peer.accountId, content, timestamp, { username: t.peer.username, online: true });
  }

  // ---------------------------------------------------------------- plumbing

  assertCanSend(t: Target): void {
    if (t.kind === 'group') {
      if (!memberOf(t.state, this.ctx.me().accountId)) throw new KluisError('NOT_A_MEMBER', 'you are not a member of this group');
      return;
    }
    const identity = this.ctx.store.getIdentity(t.peer.accountId);
    if (identity?.status === 'changed-pending') throw new IdentityChangedError(t.peer.username, t.peer.accountId);
    if (this.ctx.conv.isBlocked(t.peer.accountId)) throw new KluisError('BLOCKED', `${t.peer.username} is blocked`);
  }

  outgoingRow(t: Target, d: pb.DataMessage, kind: MessageRow['kind'], content: Pick<MessageRow, 'body' | 'event'>, id: string = randomUUID()): MessageRow {
    const me = this.ctx.me();
    const now = this.ctx.now();
    return {
      id,
      conversation: t.conversation,
      peerAccountId: t.kind === 'direct' ? t.peer.accountId : null,
      direction: 'outgoing',
      senderAccountId: me.accountId,
      senderUsername: me.username,
      senderDevice: me.deviceId,
      timestamp: Number(d.timestamp),
      serverTimestamp: null,
      body: content.body,
      event: content.event ?? null,
      sync: false,
      status: 'sending',
      kind,
      groupId: t.kind === 'group' ? t.groupId : null,
      counter: Number(d.counter),
      expireTimer: d.expireTimerSeconds,
      expiresAt: kind === 'text' && d.expireTimerSeconds ? Number(d.timestamp) + d.expireTimerSeconds * 1000 : null,
      readAt: now,
      receivedAt: now,
    };
  }

  private syncDestination(t: Target): { destinationAccountId?: string; destinationUsername?: string } {
    return t.kind === 'direct' ? { destinationAccountId: t.peer.accountId, destinationUsername: t.peer.username } : {};
  }

  /** Sends a data message; `row` (if any) is stored with the first encryption. Returns recipient devices. */
  private async deliver(t: Target, d: pb.DataMessage, row?: MessageRow): Promise<number> {
    if (t.kind === 'group') d.group = create(pb.GroupContextSchema, { id: t.state.id, version: t.state.version });
    const syncSent = { sent: { timestamp: d.timestamp, message: d, ...this.syncDestination(t) } };
    return this.deliverContent(t, { body: { case: 'data', value: d } }, Number(d.timestamp), Number(d.counter), syncSent, row);
  }

  private async deliverContent(
    t: Target,
    init: ContentInit,
    timestamp: number,
    counter: number,
    sync: SyncValue,
    row?: MessageRow,
  ): Promise<number> {
    return this.deliverBytes(t, encodeContent(init), timestamp, counter, sync, row);
  }

  /** `row` is stored with the first encryption (kept as it is when it was stored before: a retry). */
  private async deliverBytes(t: Target, content: Bytes, timestamp: number, counter: number, sync: SyncValue, row?: MessageRow): Promise<number> {
    const at = { conversation: t.conversation, counter };
    const me = this.ctx.me();
    const record = () => {
      if (!row || this.ctx.data.getMessage(row.id)) return;
      // Under the key an incoming copy would have: should this device ever get its own
      // message back (a sync copy, a resend), it is the same message, not a second one.
      if (!this.ctx.data.insertMessage(row, dedupeKey(me.accountId, me.deviceId, timestamp, row.kind === 'timer' ? 'timer' : row.kind === 'group-update' ? 'group-update' : 'data')))
        throw new KluisError('TIMESTAMP_IN_USE', 'a message with this timestamp is stored already; send it again');
    };
    try {
      if (t.kind === 'group') {
        // Our other devices are recipients of the same fan-out: no separate sync copy.
        this.ctx.store.transaction(() => {
          record();
          this.ctx.data.putSentContent(timestamp, t.conversation, content, at);
        });
        const r = await this.groups.sendToGroup(t.groupId, content, timestamp);
        if (row) this.ctx.data.setMessageStatus(row.id, 'sent', r.serverTimestamp);
        return r.recipients;
      }
      const serverTimestamp = await this.sender.sendToAccount(t.peer.accountId, content, timestamp, {
        username: t.peer.username,
        withCommit: () => {
          record();
          this.ctx.data.putSentContent(timestamp, t.peer.accountId, content, at);
        },
      });
      if (row) this.ctx.data.setMessageStatus(row.id, 'sent', serverTimestamp);
      const devices = this.ctx.store.sessionsForAccount(t.peer.accountId).length;
      const syncContent = encodeContent({ body: { case: 'sync', value: sync } });
      this.ctx.data.putSentContent(timestamp, me.accountId, syncContent);
      try {
        await this.sender.sendToAccount(me.accountId, syncContent, timestamp, { username: me.username });
      } catch (e) {
        // The peer has it; only our other devices' copy failed. Marked failed (or thrown), a
        // message that was delivered would be sent again by its user: shown twice everywhere.
        this.ctx.emit('error', e instanceof Error ? e : new Error(String(e)));
      }
      return devices + Math.max(0, this.ctx.ownDevices().length - 1);
    } catch (e) {
      if (row) this.ctx.data.setMessageStatus(row.id, 'failed');
      throw e;
    }
  }

  async syncToOwnDevices(sync: SyncValue): Promise<void> {
    const me = this.ctx.me();
    if (this.ctx.ownDevices().filter((d) => d !== me.deviceId).length === 0) return;
    const content = encodeContent({ body: { case: 'sync', value: sync } });
    await this.sender.sendToAccount(me.accountId, content, this.nextTimestamp(), { username: me.username });
  }

  /** After linking a device: our profile key, settings and every group's state. */
  async syncEverything(): Promise<void> {
    const s = this.settings();
    await this.syncToOwnDevices({
      ...(this.profileKey() ? { keys: { profileKey: this.profileKey()! } } : {}),
      settings: { readReceipts: s.readReceipts, defaultExpireTimerSeconds: s.defaultExpireTimer },
    });
    for (const g of this.book.list()) {
      const state = this.book.state(g.id);
      if (state) await this.syncToOwnDevices({ groupState: state });
    }
  }

  private async sendReceipt(accountId: string, type: pb.ReceiptMessage_Type, timestamps: number[]): Promise<void> {
    const content = encodeContent({ body: { case: 'receipt', value: { type, timestamps: timestamps.map(BigInt) } } });
    await this.sender.sendToAccount(accountId, content, this.nextTimestamp());
  }

  /** Answers a ResendRequest: the listed data messages again, over 1:1 to that device only. */
  async resendCounters(accountId: string, deviceId: number, conversation: string, counters: number[]): Promise<void> {
    for (const c of counters) {
      const sent = this.ctx.data.sentByCounter(conversation, c);
      if (!sent || sent.resends >= 3) continue;
      this.ctx.data.bumpResends(sent.timestamp, sent.accountId);
      await this.sender.sendToAccount(accountId, sent.content, sent.timestamp, { onlyDevices: [deviceId] });
    }
  }

  private requireMessage(id: string): MessageRow {
    const m = this.ctx.data.getMessage(id);
    if (!m) throw new KluisError('UNKNOWN_MESSAGE', `no message ${id}`);
    if (m.kind !== 'text') throw new KluisError('NOT_A_MESSAGE', `${id} is an event, not a message`);
    return m;
  }

  private requireOwn(id: string, what: string): MessageRow {
    const m = this.requireMessage(id);
    if (m.senderAccountId !== this.ctx.me().accountId) throw new KluisError('NOT_YOURS', `you can only ${what} your own messages`);
    if (m.deleted) throw new KluisError('DELETED', 'this message was deleted');
    if (this.ctx.now() - m.timestamp > 24 * 3600_000) throw new KluisError('TOO_OLD', `messages can only be changed within 24 hours; this one cannot ${what}`);
    return m;
  }

  stored(id: string): StoredMessage {
    return toStored(this.ctx.data.getMessage(id)!, this.ctx.conv, (a) => this.ctx.data.usernameOf(a));
  }
}

type SyncValue = NonNullable<Extract<ContentInit['body'], { case: 'sync' }>>['value'];

export function checkTimer(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 0 || (seconds > 0 && (seconds < MIN_TIMER_SECONDS || seconds > MAX_TIMER_SECONDS)))
    throw new KluisError('BAD_TIMER', `a disappearing timer is off (0) or ${MIN_TIMER_SECONDS} s to 4 weeks`);
}
