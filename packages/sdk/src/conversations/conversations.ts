import { randomUUID } from 'node:crypto';
import { encodeContent, normalizeUsername, pb } from '@kluis/protocol';
import type { Ctx } from '../context.js';
import { KluisError } from '../errors.js';
import { GroupBook } from '../groups/group-book.js';
import { GroupSender } from '../groups/group-sender.js';
import { MultiSender } from '../multi-sender.js';
import { fetchProfile, publishProfile, type UserProfile } from '../profiles/index.js';
import type { SealedSender } from '../sealed/sealed-sender.js';
import type { Sender } from '../sender.js';
import type { MessageRow } from '../store/data-store.js';
import type { ConversationInfo, GroupInfo, StoredMessage } from '../types.js';
import { AttachmentKeeper } from './attachment-keeper.js';
import { missingColumns } from './conversation-events.js';
import { groupConversationId, groupIdOf } from './ids.js';
import { IncomingApplier, type Followups } from './incoming.js';
import { Messenger, type OutgoingParts, type Settings } from './messenger.js';
import { toStored } from './stored.js';
import { GroupAdmin } from './group-admin.js';
import { Calls } from '../calls/calls.js';
import type { AttachmentMeta } from '../attachments/pointer.js';

export interface ConversationOptions {
  profileDir: string;
  /** How long a gap in a sender's counters may stay open before it is reported and a resend asked (default 30 s). */
  gapWindowMs?: number;
  /** Attachments up to this size are fetched when their message arrives (default 100 MiB). */
  autoDownloadBytes?: number;
  resolveUsername: (u: string) => Promise<{ accountId: string; username: string }>;
  /** Sealed sender (absent: every send identified). */
  sealed?: SealedSender;
  nextTimestamp: () => number;
}

/** A file to send: its path, and what the SDK cannot tell from its bytes (the type is sniffed when not given). */
export type FileInput = { path: string } & Partial<Pick<AttachmentMeta, 'contentType'>> & Pick<AttachmentMeta, 'fileName' | 'voiceNote' | 'durationMs'>;

export interface SendInput {
  replyTo?: string;
  files?: FileInput[];
  /** The message's id, chosen by the caller (a lowercase UUID): the same id again is the same message. */
  id?: string;
}

const MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Everything above the message pipeline: what the Client's conversation methods call. */
export class Conversations {
  readonly book: GroupBook;
  readonly messenger: Messenger;
  readonly groupAdmin: GroupAdmin;
  readonly applier: IncomingApplier;
  readonly attachments: AttachmentKeeper;
  readonly calls: Calls;
  private readonly groupSender: GroupSender;
  private ticker: NodeJS.Timeout | undefined;
  private ticking = false;
  /** Sends with a caller's message id, while they run. */
  private readonly sending = new Map<string, Promise<StoredMessage>>();

  constructor(
    private readonly ctx: Ctx,
    private readonly sender: Sender,
    private readonly opts: ConversationOptions,
  ) {
    this.book = new GroupBook(ctx.conv, () => ctx.me().accountId, (a) => ctx.data.usernameOf(a));
    this.groupSender = new GroupSender(ctx, sender, new MultiSender(ctx, sender), this.book, opts.sealed);
    this.attachments = new AttachmentKeeper(ctx, opts.profileDir, opts.autoDownloadBytes ?? 100 * 1024 * 1024);
    this.messenger = new Messenger(ctx, sender, this.book, this.groupSender, opts.resolveUsername, opts.nextTimestamp);
    this.groupAdmin = new GroupAdmin(ctx, this.messenger, this.book, this.groupSender, opts.resolveUsername, opts.nextTimestamp);
    const follow: Followups = {
      deliveryReceipt: (a, ts) => this.messenger.receipts.add(a, pb.ReceiptMessage_Type.DELIVERY, ts),
      fetchProfile: (a) => this.ctx.background('profile', () => this.refreshProfile(a)),
      downloadAttachments: (id) => this.attachments.autoDownload(id),
      discardAttachments: (records) => this.attachments.discard(records),
      resend: (a, d, conv, counters) => this.ctx.background('resend', () => this.messenger.resendCounters(a, d, conv, counters)),
      groupChanged: (change) => {
        const info = this.book.info(change.groupId);
        if (info) this.ctx.emit('group-updated', info);
      },
    };
    this.calls = new Calls(ctx, this.messenger, sender, this.groupSender, this.book, opts.nextTimestamp);
    this.applier = new IncomingApplier(ctx, this.book, follow, this.calls);
  }

  /** Disappearing messages and gap checks run once a second while the client is open. */
  start(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => this.tick(), 1000);
    this.ticker.unref();
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.messenger.receipts.flush();
  }

  tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.expire();
      this.checkGaps();
    } catch (e) {
      this.ctx.emit('error', e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.ticking = false;
    }
  }

  // ---------------------------------------------------------------- sending

  /**
   * `id`, when given, is the message's id from the moment its user asked for it to be sent:
   * a send with an id that is in flight waits for that one, and one whose message is stored
   * already sends that message again (same timestamp), never a second one.
   */
  async send(conversation: string, text: string | undefined, o: SendInput = {}): Promise<StoredMessage> {
    const id = o.id;
    if (id === undefined) return this.sendNew(conversation, text, o);
    if (!MESSAGE_ID.test(id)) throw new KluisError('BAD_MESSAGE_ID', 'a message id is a lowercase UUID');
    const running = this.sending.get(id);
    if (running) return running;
    const run = (async () => {
      const stored = this.ctx.data.getMessage(id);
      if (!stored) return this.sendNew(conversation, text, o);
      if (stored.conversation !== this.conversationKey(conversation)) throw new KluisError('NOT_YOURS', `${id} is a message of another conversation`);
      const m = await this.messenger.retry(id);
      // The first attempt failed before the files were kept; this one keeps them.
      if (o.files?.length && o.files.length === (m.attachments?.length ?? 0)) await this.attachments.keepSent(id, o.files);
      return this.stored(this.ctx.data.getMessage(id)!);
    })().finally(() => this.sending.delete(id));
    this.sending.set(id, run);
    return run;
  }

  private async sendNew(conversation: string, text: string | undefined, o: SendInput): Promise<StoredMessage> {
    const parts: OutgoingParts = {};
    if (text !== undefined && text !== '') parts.text = text;
    if (o.replyTo) {
      const q = this.ctx.data.getMessage(o.replyTo);
      if (!q || q.kind !== 'text') throw new KluisError('UNKNOWN_MESSAGE', `no message ${o.replyTo} to reply to`);
      parts.quote = { id: q.timestamp, authorAccountId: q.senderAccountId, text: q.body.slice(0, 200) };
    }
    if (o.files?.length) {
      // Resolve the target first: no upload for a conversation that does not exist.
      await this.messenger.target(conversation);
      parts.attachments = [];
      for (const f of o.files) parts.attachments.push(await this.attachments.upload(f));
    }
    if (parts.text === undefined && !parts.attachments?.length) throw new KluisError('EMPTY_MESSAGE', 'nothing to send');
    const m = await this.messenger.send(conversation, parts, o.id);
    if (o.files?.length) await this.attachments.keepSent(m.id, o.files);
    return this.stored(this.ctx.data.getMessage(m.id)!);
  }

  // ---------------------------------------------------------------- reading

  list(): ConversationInfo[] {
    return this.ctx.conv.list().map((c) => {
      const title = c.kind === 'group' ? (this.book.info(c.id.slice(2))?.title ?? c.id) : c.id;
      const info: ConversationInfo = { id: c.id, kind: c.kind, title, unread: c.unread, expireTimer: c.expireTimer };
      if (c.last) info.last = this.stored(c.last);
      return info;
    });
  }

  messages(o: { conversation?: string; limit?: number } = {}): StoredMessage[] {
    const conversation = o.conversation === undefined ? undefined : this.conversationKey(o.conversation);
    return this.ctx.data.listMessages({ conversation, limit: o.limit }).map((m) => this.stored(m));
  }

  message(id: string): StoredMessage | undefined {
    const m = this.ctx.data.getMessage(id);
    return m ? this.stored(m) : undefined;
  }

  messagesByIdPrefix(prefix: string, limit: number): StoredMessage[] {
    return this.ctx.data.messagesByIdPrefix(prefix, limit).map((m) => this.stored(m));
  }

  /** Disappearing messages for everyone in the conversation: a group's timer is part of its state. */
  async setTimer(conversation: string, seconds: number): Promise<void> {
    const t = await this.messenger.target(conversation);
    if (t.kind === 'group') await this.groupAdmin.setTimer(t.groupId, seconds);
    else await this.messenger.setTimer(t, seconds);
  }

  search(text: string, o: { conversation?: string; limit?: number } = {}): StoredMessage[] {
    const conversation = o.conversation === undefined ? undefined : this.conversationKey(o.conversation);
    return this.ctx.conv.search(text, conversation, Math.max(1, Math.min(o.limit ?? 100, 1000))).map((m) => this.stored(m));
  }

  history(messageId: string): Array<{ editedAt: number; text: string }> {
    return this.ctx.conv.editHistory(messageId).map((e) => ({ editedAt: e.editedAt, text: e.body }));
  }

  /** A username or a group conversation id, as stored. */
  conversationKey(c: string): string {
    return groupIdOf(c) ? c : normalizeUsername(c);
  }

  /** A group by conversation id, hex id, or exact title. */
  findGroup(nameOrId: string): GroupInfo | undefined {
    const byId = groupIdOf(nameOrId) ? this.book.info(nameOrId.slice(2)) : this.book.info(nameOrId);
    if (byId) return byId;
    const matches = this.book.list().filter((g) => g.title === nameOrId);
    if (matches.length > 1) throw new KluisError('AMBIGUOUS_GROUP', `several groups are called “${nameOrId}”; use the group id`);
    return matches[0];
  }

  private stored(m: MessageRow): StoredMessage {
    return toStored(m, this.ctx.conv, (a) => this.ctx.data.usernameOf(a));
  }

  // ---------------------------------------------------------------- profiles

  async setProfile(p: UserProfile): Promise<void> {
    const me = this.ctx.me();
    await publishProfile(this.ctx.api(), this.messenger.requireProfileKey(), me.accountId, p);
    this.ctx.data.set('ownProfile', { name: p.name, avatar: p.avatar ? Buffer.from(p.avatar).toString('base64') : undefined });
  }

  ownProfile(): UserProfile | undefined {
    const p = this.ctx.data.get<{ name: string; avatar?: string }>('ownProfile');
    if (!p) return undefined;
    return p.avatar ? { name: p.name, avatar: new Uint8Array(Buffer.from(p.avatar, 'base64')) } : { name: p.name };
  }

  /** A contact's profile as last fetched (fetched now if we have their key but no copy). */
  async profile(username: string, o: { refresh?: boolean } = {}): Promise<{ name?: string; avatar?: Uint8Array } | undefined> {
    const peer = await this.opts.resolveUsername(username);
    let row = this.ctx.conv.getProfile(peer.accountId);
    if (row?.profileKey && (row.fetchedAt === null || o.refresh)) {
      await this.refreshProfile(peer.accountId);
      row = this.ctx.conv.getProfile(peer.accountId);
    }
    if (!row || (row.name === null && row.avatar === null)) return undefined;
    const out: { name?: string; avatar?: Uint8Array } = {};
    if (row.name !== null) out.name = row.name;
    if (row.avatar !== null) out.avatar = row.avatar;
    return out;
  }

  async refreshProfile(accountId: string): Promise<void> {
    const row = this.ctx.conv.getProfile(accountId);
    if (!row?.profileKey) return;
    try {
      const p = await fetchProfile(this.ctx.api(), row.profileKey, accountId);
      this.ctx.conv.putProfileData(accountId, {
        name: p?.name ?? null,
        avatar: p?.avatar ? new Uint8Array(p.avatar) : null,
        version: p?.version ?? null,
      });
    } catch (e) {
      // A stale key: the owner rotated it (e.g. blocked us) — keep what we had.
      if ((e as { code?: string }).code !== 'PROFILE_UNREADABLE') throw e;
      this.ctx.conv.putProfileData(accountId, { name: row.name, avatar: row.avatar, version: row.version });
    }
  }

  /** Blocks a contact: their messages are dropped, and our profile key changes so they lose our profile. */
  async block(username: string): Promise<void> {
    const peer = await this.opts.resolveUsername(username);
    this.ctx.conv.setBlocked(peer.accountId, true);
    this.messenger.rotateProfileKey();
    const own = this.ownProfile();
    if (own) await this.setProfile(own);
    await this.opts.sealed?.publishAccessKey();
    await this.messenger.syncToOwnDevices({ keys: { profileKey: this.messenger.requireProfileKey() } });
  }

  async unblock(username: string): Promise<void> {
    const peer = await this.opts.resolveUsername(username);
    this.ctx.conv.setBlocked(peer.accountId, false);
  }

  settings(): Settings {
    return this.messenger.settings();
  }

  // ---------------------------------------------------------------- timers

  private expire(): void {
    const now = this.ctx.now();
    const next = this.ctx.conv.nextExpiry();
    if (next === undefined || next > now) return;
    for (const m of this.ctx.conv.expired(now)) {
      this.attachments.discard(m.attachments ? JSON.parse(m.attachments) : []);
      this.ctx.conv.deleteMessage(m.id);
      this.ctx.emit('message-removed', { id: m.id, conversation: m.conversation });
    }
  }

  private checkGaps(): void {
    const now = this.ctx.now();
    const window = this.opts.gapWindowMs ?? 30_000;
    const due = this.ctx.conv.gapsOlderThan(now - window);
    if (due.length === 0) return;
    const bySender = new Map<string, typeof due>();
    for (const g of due) {
      const k = `${g.conversation}\n${g.accountId}\n${g.deviceId}`;
      bySender.set(k, [...(bySender.get(k) ?? []), g]);
    }
    for (const gaps of bySender.values()) {
      const { conversation, accountId, deviceId } = gaps[0]!;
      const marker: MessageRow = {
        id: randomUUID(),
        conversation,
        peerAccountId: null,
        direction: 'incoming',
        senderAccountId: accountId,
        senderUsername: this.ctx.data.usernameOf(accountId) ?? accountId,
        senderDevice: deviceId,
        timestamp: now,
        serverTimestamp: null,
        ...missingColumns(gaps.length),
        sync: false,
        status: null,
        kind: 'missing',
        groupId: groupIdOf(conversation) ? conversation.slice(2) : null,
        readAt: now,
        receivedAt: now,
      };
      this.ctx.store.transaction(() => {
        this.ctx.data.insertMessage(marker, null);
        for (const g of gaps) this.ctx.conv.markGapRequested(g, now, marker.id);
      });
      this.ctx.emit('message', this.stored(marker));
      this.ctx.emit('messages-missing', { conversation, accountId, count: gaps.length });
      const gid = groupIdOf(conversation);
      const content = encodeContent({
        body: {
          case: 'resendRequest',
          value: { counters: gaps.map((g) => BigInt(g.counter)), ...(gid ? { groupId: gid } : {}) },
        },
      });
      this.ctx.background('resend request', () =>
        this.sender.sendToAccount(accountId, content, this.opts.nextTimestamp(), { onlyDevices: [deviceId] }),
      );
    }
    this.ctx.conv.dropGapsBefore(now - 7 * 86400_000);
  }

  /** Group id (hex) → conversation id. */
  static groupConversation(groupIdHex: string): string {
    return groupConversationId(Buffer.from(groupIdHex, 'hex'));
  }
}
