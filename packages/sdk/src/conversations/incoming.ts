import { pb, type Content } from '@kluis/protocol';
import { b64 } from '../keys.js';
import type { Ctx } from '../context.js';
import type { GroupBook, GroupChange } from '../groups/group-book.js';
import { memberOf } from '../groups/group-state.js';
import { dedupeKey, type MessageRow } from '../store/data-store.js';
import type { ConversationEvent } from '../types.js';
import { eventColumns, missingColumns, notShownColumns } from './conversation-events.js';
import { groupConversationId, groupHex } from './ids.js';
import { attachmentRecord, parseAttachments, type AttachmentRecord } from './stored.js';

/** Deletes and edits for everyone are honoured within this long after the original. */
export const EDIT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** More missing counters than this at once are not tracked one by one (a reset, not a gap). */
export const MAX_GAP = 100;

export interface IncomingMeta {
  guid: string;
  serverTimestamp: number;
  src: string;
  dev: number;
  /** The sender's username as far as we could verify it (else the account id). */
  senderUsername: string;
  /** The envelope was a sender-key (group) ciphertext. */
  viaSenderKey: boolean;
}

/** What the receive pipeline does after the commit: events, and work in the background. */
export interface Followups {
  deliveryReceipt(accountId: string, timestamp: number): void;
  fetchProfile(accountId: string): void;
  downloadAttachments(messageId: string): void;
  /** Attachments whose message is gone: release the blobs, delete local files. */
  discardAttachments(records: AttachmentRecord[]): void;
  resend(accountId: string, deviceId: number, conversation: string, counters: number[]): void;
  groupChanged(change: GroupChange): void;
}

export class Effects {
  readonly created: MessageRow[] = [];
  readonly updated = new Set<string>();
  readonly removed: Array<{ id: string; conversation: string }> = [];
  readonly later: Array<() => void> = [];
}

/**
 * Applies one decrypted Content to the local store: stage 2 of the receive path
 * (inbox/inbox-drain.ts). Runs inside the transaction that deletes the inbox row (sync writes
 * only); everything else is queued on Effects and runs after the commit.
 */
export class IncomingApplier {
  constructor(
    private readonly ctx: Ctx,
    private readonly book: GroupBook,
    private readonly follow: Followups,
    private readonly calls?: { apply(meta: IncomingMeta, m: pb.CallMessage, fx: Effects): void },
  ) {}

  apply(meta: IncomingMeta, content: Content): Effects {
    const fx = new Effects();
    const me = this.ctx.me();
    const fromMe = meta.src === me.accountId;
    if (!fromMe && this.ctx.conv.isBlocked(meta.src)) return fx;
    const b = content.body;
    switch (b.case) {
      case 'data':
        this.data(meta, b.value, fromMe, fx);
        break;
      case 'edit':
        if (b.value.data) this.edit(meta, b.value.targetTimestamp, b.value.data, fx);
        break;
      case 'sync':
        if (fromMe) this.sync(meta, b.value, fx);
        break;
      case 'receipt':
        if (!fromMe) this.receipt(meta, b.value, fx);
        break;
      case 'typing':
        if (!fromMe) this.typing(meta, b.value, fx);
        break;
      case 'call':
        this.calls?.apply(meta, b.value, fx);
        break;
      case 'resendRequest': {
        const conv = b.value.groupId ? groupConversationId(b.value.groupId) : meta.senderUsername;
        const counters = b.value.counters.map(Number);
        fx.later.push(() => this.follow.resend(meta.src, meta.dev, conv, counters));
        break;
      }
      default:
        break; // unknown kinds from newer clients: nothing to do
    }
    return fx;
  }

  /**
   * The "a message could not be shown" marker, where this content would have shown (sync
   * writes, inside the caller's transaction); its id is the envelope's guid, so the message
   * counts as processed for good. Undefined where it would not have shown: receipts, typing,
   * a blocked sender, a group we do not know.
   */
  notShown(meta: IncomingMeta, content: Content): MessageRow | undefined {
    const me = this.ctx.me();
    const fromMe = meta.src === me.accountId;
    if (!fromMe && this.ctx.conv.isBlocked(meta.src)) return undefined;
    const where = this.whereShown(meta, content, fromMe);
    if (!where) return undefined;
    this.ctx.conv.ensure(where.conversation, where.groupId ? 'group' : 'direct', where.peer, 0);
    const now = this.ctx.now();
    const row: MessageRow = {
      id: meta.guid,
      conversation: where.conversation,
      peerAccountId: where.peer,
      direction: 'incoming',
      senderAccountId: meta.src,
      senderUsername: fromMe ? me.username : meta.senderUsername,
      senderDevice: meta.dev,
      // The server's time: the content's own timestamp would make the marker a target for
      // reactions and deletes aimed at the message it stands for.
      timestamp: meta.serverTimestamp,
      serverTimestamp: meta.serverTimestamp,
      ...notShownColumns(),
      sync: false,
      status: null,
      kind: 'missing',
      groupId: where.groupId,
      readAt: now,
      receivedAt: now,
    };
    return this.ctx.data.insertMessage(row, null) ? row : undefined;
  }

  /** The conversation a data message, an edit or a sync copy of one would have shown in. */
  private whereShown(
    meta: IncomingMeta,
    content: Content,
    fromMe: boolean,
  ): { conversation: string; groupId: string | null; peer: string | null } | undefined {
    const b = content.body;
    let d: pb.DataMessage | undefined;
    let dest: { accountId: string; username: string } | undefined;
    if (b.case === 'data') d = b.value;
    else if (b.case === 'edit') d = b.value.data;
    else if (b.case === 'sync' && fromMe && b.value.sent) {
      const s = b.value.sent;
      d = s.message ?? s.edit?.data;
      if (s.destinationAccountId && s.destinationUsername) dest = { accountId: s.destinationAccountId, username: s.destinationUsername };
    }
    if (!d) return undefined;
    if (d.group) {
      const groupId = groupHex(d.group.id);
      const state = this.book.state(groupId);
      if (!state || !(memberOf(state, meta.src) || d.groupUpdate)) return undefined;
      return { conversation: groupConversationId(d.group.id), groupId, peer: null };
    }
    if (meta.viaSenderKey) return undefined;
    if (fromMe) return dest && { conversation: dest.username, groupId: null, peer: dest.accountId };
    return { conversation: meta.senderUsername, groupId: null, peer: meta.src };
  }

  // ---------------------------------------------------------------- data messages

  private data(meta: IncomingMeta, d: pb.DataMessage, fromMe: boolean, fx: Effects, syncDestination?: { accountId: string; username: string }): void {
    const { conv, data } = this.ctx;
    const me = this.ctx.me();
    // A copy of one stored already (a retry, a resend, the other of a sealed and an
    // identified envelope, our own message coming back): dropped whole, so that an old copy
    // changes nothing either (the timer, counters).
    if (data.hasContentFrom(meta.src, meta.dev, Number(d.timestamp))) return;
    let conversation: string;
    let peer: string | null = null;
    let groupId: string | null = null;
    if (d.group) {
      groupId = groupHex(d.group.id);
      conversation = groupConversationId(d.group.id);
      if (d.groupUpdate) {
        const change = this.book.receive(meta.src, d.groupUpdate);
        // A group change takes a counter like any data message: track it, or it leaves a gap.
        if (!fromMe) this.trackCounter(meta, conversation, Number(d.counter), fx);
        if (change) this.memberKeys(change.state);
        if (change) {
          this.insertEvent(meta, d, conversation, groupId, 'group-update', change.event, fromMe, fx);
          fx.later.push(() => this.follow.groupChanged(change));
        }
        this.profileKey(meta, d);
        return;
      }
      const state = this.book.state(groupId);
      // Only members may post; a removed member's (or a stranger's) messages are dropped.
      if (!state || !memberOf(state, meta.src)) return;
    } else if (fromMe) {
      if (!syncDestination) return; // a direct message from our own device comes as a sync copy
      conversation = syncDestination.username;
      peer = syncDestination.accountId;
    } else {
      if (meta.viaSenderKey) return; // sender keys are for groups only
      conversation = meta.senderUsername;
      peer = meta.src;
    }
    conv.ensure(conversation, groupId ? 'group' : 'direct', peer, 0);
    this.profileKey(meta, d);
    if (!fromMe) this.trackCounter(meta, conversation, Number(d.counter), fx);

    if (d.reaction) {
      const r = d.reaction;
      const target = conv.findTarget(conversation, r.targetAuthorAccountId, Number(r.targetTimestamp));
      if (target && !target.deleted) {
        conv.setReaction(target.id, meta.src, r.remove ? null : r.emoji, Number(d.timestamp));
        fx.updated.add(target.id);
      }
      return;
    }
    if (d.delete) {
      const target = conv.findTarget(conversation, meta.src, Number(d.delete.targetTimestamp));
      if (target && !target.deleted && Number(d.timestamp) - target.timestamp <= EDIT_WINDOW_MS) {
        const atts = parseAttachments(target.attachments);
        conv.eraseContent(target.id);
        if (atts.length > 0) fx.later.push(() => this.follow.discardAttachments(atts));
        fx.updated.add(target.id);
      }
      return;
    }
    if (d.expireTimerUpdate) {
      conv.setTimer(conversation, d.expireTimerSeconds);
      const by = fromMe ? me.username : meta.senderUsername;
      this.insertEvent(meta, d, conversation, groupId, 'timer', [{ type: 'timer', by, seconds: d.expireTimerSeconds }], fromMe, fx, peer);
      return;
    }
    if (d.text === undefined && d.attachments.length === 0) return;
    // A sender's timer is the conversation's timer (the last writer wins, as in Signal).
    if (!groupId && conv.get(conversation)!.expireTimer !== d.expireTimerSeconds) conv.setTimer(conversation, d.expireTimerSeconds);
    const attachments = d.attachments.map((a) => attachmentRecord(a, 'pending'));
    const now = this.ctx.now();
    const row: MessageRow = {
      ...this.row(meta, d, { conversation, groupId, peer, fromMe, kind: 'text', body: d.text ?? '' }),
      attachments: attachments.length > 0 ? JSON.stringify(attachments) : null,
      quote: d.quote ? JSON.stringify({ id: Number(d.quote.id), authorAccountId: d.quote.authorAccountId, text: d.quote.text }) : null,
      expireTimer: d.expireTimerSeconds,
      // Our own messages start their timer when sent; others' when read.
      expiresAt: fromMe && d.expireTimerSeconds ? Number(d.timestamp) + d.expireTimerSeconds * 1000 : null,
      readAt: fromMe ? now : null,
    };
    if (!data.insertMessage(row, dedupeKey(meta.src, meta.dev, row.timestamp, 'data'))) return;
    fx.created.push(row);
    if (!fromMe) fx.later.push(() => this.follow.deliveryReceipt(meta.src, row.timestamp));
    if (attachments.length > 0) fx.later.push(() => this.follow.downloadAttachments(row.id));
  }

  private insertEvent(
    meta: IncomingMeta,
    d: pb.DataMessage,
    conversation: string,
    groupId: string | null,
    kind: 'group-update' | 'timer',
    parts: ConversationEvent[],
    fromMe: boolean,
    fx: Effects,
    peer: string | null = null,
  ): void {
    this.ctx.conv.ensure(conversation, groupId ? 'group' : 'direct', peer, 0);
    const row = this.row(meta, d, { conversation, groupId, peer, fromMe, kind, ...eventColumns(parts) });
    if (this.ctx.data.insertMessage(row, dedupeKey(meta.src, meta.dev, row.timestamp, kind))) fx.created.push(row);
  }

  /** The columns every stored message or event shares. */
  private row(
    meta: IncomingMeta,
    d: pb.DataMessage,
    o: Pick<MessageRow, 'body' | 'event'> & { conversation: string; groupId: string | null; peer: string | null; fromMe: boolean; kind: MessageRow['kind'] },
  ): MessageRow {
    const now = this.ctx.now();
    return {
      id: meta.guid,
      conversation: o.conversation,
      peerAccountId: o.peer,
      direction: o.fromMe ? 'outgoing' : 'incoming',
      senderAccountId: meta.src,
      senderUsername: o.fromMe ? this.ctx.me().username : meta.senderUsername,
      senderDevice: meta.dev,
      timestamp: Number(d.timestamp),
      serverTimestamp: meta.serverTimestamp,
      body: o.body,
      event: o.event ?? null,
      sync: o.fromMe,
      status: null,
      kind: o.kind,
      groupId: o.groupId,
      counter: Number(d.counter),
      readAt: now,
      receivedAt: now,
    };
  }

  /** Profile keys of fellow members we did not have yet (never overriding one a contact gave us). */
  private memberKeys(state: pb.GroupState): void {
    const me = this.ctx.me().accountId;
    for (const m of state.members) {
      if (!m.profileKey || m.accountId === me || this.ctx.conv.getProfile(m.accountId)?.profileKey) continue;
      this.ctx.conv.putProfileKey(m.accountId, m.profileKey as Uint8Array<ArrayBuffer>);
      const a = m.accountId;
      this.ctx.background('profile', async () => this.follow.fetchProfile(a));
    }
  }

  private profileKey(meta: IncomingMeta, d: pb.DataMessage): void {
    if (!d.profileKey || meta.src === this.ctx.me().accountId) return;
    if (this.ctx.conv.putProfileKey(meta.src, d.profileKey as Uint8Array<ArrayBuffer>)) {
      const src = meta.src;
      this.ctx.background('profile', async () => this.follow.fetchProfile(src));
    }
  }

  /** Counters tell a late message (fills a gap) from a missing one (the gap stays open). */
  private trackCounter(meta: IncomingMeta, conversation: string, counter: number, fx: Effects): void {
    const { conv } = this.ctx;
    if (!Number.isSafeInteger(counter) || counter <= 0) return;
    const highest = conv.highestCounter(conversation, meta.src, meta.dev);
    if (highest === undefined) {
      conv.setHighestCounter(conversation, meta.src, meta.dev, counter);
      return;
    }
    if (counter > highest) {
      const now = this.ctx.now();
      if (counter - highest - 1 <= MAX_GAP)
        for (let c = highest + 1; c < counter; c++) conv.addGap(conversation, meta.src, meta.dev, c, now);
      conv.setHighestCounter(conversation, meta.src, meta.dev, counter);
      return;
    }
    const gap = conv.fillGap(conversation, meta.src, meta.dev, counter);
    if (gap?.markerId) {
      // The "could not be delivered" marker goes once the message turns up after all.
      const marker = gap.markerId;
      const rest = conv.openGaps().filter((g) => g.markerId === marker).length;
      if (rest === 0) {
        conv.deleteMessage(marker);
        fx.removed.push({ id: marker, conversation });
      } else {
        const { body, event } = missingColumns(rest);
        this.ctx.data.db.prepare('UPDATE messages SET body = ?, event = ? WHERE id = ?').run([body, event, marker]);
        fx.updated.add(marker);
      }
    }
  }

  // ---------------------------------------------------------------- edits

  private edit(meta: IncomingMeta, targetTimestamp: bigint, d: pb.DataMessage, fx: Effects): void {
    const { conv } = this.ctx;
    const me = this.ctx.me();
    const conversation = d.group ? groupConversationId(d.group.id) : meta.src === me.accountId ? undefined : meta.senderUsername;
    if (conversation && meta.src !== me.accountId) this.trackCounter(meta, conversation, Number(d.counter), fx);
    const targets = conversation
      ? [conv.findTarget(conversation, meta.src, Number(targetTimestamp))].filter((x) => x !== undefined)
      : conv.findByAuthor(meta.src, Number(targetTimestamp));
    for (const target of targets) {
      if (target.deleted || target.kind !== 'text') continue;
      if (Number(d.timestamp) - target.timestamp > EDIT_WINDOW_MS) continue;
      if (d.text === undefined || d.text === target.body) continue;
      conv.applyEdit(target.id, target.body, d.text, Number(d.timestamp));
      fx.updated.add(target.id);
    }
  }

  // ---------------------------------------------------------------- sync from our own devices

  private sync(meta: IncomingMeta, s: pb.SyncMessage, fx: Effects): void {
    const { conv } = this.ctx;
    if (s.sent) {
      const dest =
        s.sent.destinationAccountId && s.sent.destinationUsername
          ? { accountId: s.sent.destinationAccountId, username: s.sent.destinationUsername }
          : undefined;
      if (s.sent.message) {
        if (dest) this.ctx.data.putContact(dest.accountId, dest.username);
        this.data(meta, s.sent.message, true, fx, dest);
      }
      if (s.sent.edit?.data) this.edit(meta, s.sent.edit.targetTimestamp, s.sent.edit.data, fx);
    }
    for (const r of s.read) {
      for (const m of conv.findByAuthor(r.senderAccountId, Number(r.timestamp))) {
        if (m.direction !== 'incoming' || m.readAt) continue;
        conv.markOneRead(m, this.ctx.now());
        fx.updated.add(m.id);
      }
    }
    if (s.deleteForMe) {
      for (const t of s.deleteForMe.targets) {
        const m = conv.findTarget(s.deleteForMe.conversation, t.senderAccountId, Number(t.timestamp));
        if (!m) continue;
        const atts = parseAttachments(m.attachments);
        conv.deleteMessage(m.id);
        if (atts.length > 0) fx.later.push(() => this.follow.discardAttachments(atts));
        fx.removed.push({ id: m.id, conversation: m.conversation });
      }
    }
    if (s.keys) this.ctx.data.set('profileKey', b64(s.keys.profileKey));
    if (s.settings)
      this.ctx.data.set('settings', {
        readReceipts: s.settings.readReceipts,
        defaultExpireTimer: s.settings.defaultExpireTimerSeconds,
      });
    if (s.groupState && !this.ctx.conv.getGroup(groupHex(s.groupState.id))) {
      this.book.create(s.groupState);
      fx.later.push(() => this.ctx.emit('group-updated', this.book.info(groupHex(s.groupState!.id))!));
    }
  }

  // ---------------------------------------------------------------- receipts and typing

  private receipt(meta: IncomingMeta, r: pb.ReceiptMessage, fx: Effects): void {
    const type = r.type === pb.ReceiptMessage_Type.READ ? 'read' : r.type === pb.ReceiptMessage_Type.DELIVERY ? 'delivery' : undefined;
    if (!type) return;
    const me = this.ctx.me();
    for (const ts of r.timestamps) {
      for (const m of this.ctx.conv.outgoingByTimestamp(me.accountId, Number(ts))) {
        if (this.ctx.conv.addReceipt(m.id, meta.src, type, this.ctx.now())) fx.updated.add(m.id);
        // A read receipt implies delivery.
        if (type === 'read' && this.ctx.conv.addReceipt(m.id, meta.src, 'delivery', this.ctx.now())) fx.updated.add(m.id);
      }
    }
  }

  private typing(meta: IncomingMeta, t: pb.TypingMessage, fx: Effects): void {
    let conversation = meta.senderUsername;
    if (t.groupId) {
      const state = this.book.state(groupHex(t.groupId));
      if (!state || !memberOf(state, meta.src)) return;
      conversation = groupConversationId(t.groupId);
    } else if (meta.viaSenderKey) return;
    const started = t.action !== pb.TypingMessage_Action.STOPPED;
    fx.later.push(() =>
      this.ctx.emit('typing', { conversation, accountId: meta.src, username: meta.senderUsername, started }),
    );
  }
}
