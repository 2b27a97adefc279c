import { isGroupConversation } from '@kluis/protocol/conversation-ids';
import type { Client, StoredMessage } from '@kluis/sdk';
import { formatBytes, formatTimer } from '../durations.js';
import type { GroupInfo } from '../session.js';

type Attachment = NonNullable<StoredMessage['attachments']>[number];

/** What a message refers to by id (groups, accounts, quoted timestamps) and how to name it. */
export interface View {
  groupTitle(conversation: string): string | undefined;
  username(accountId: string): string | undefined;
  /** The local id of the message a quote points at (its sender timestamp in a conversation). */
  quotedId?(conversation: string, timestamp: number): string | undefined;
}

/** Names learned from the groups and the messages at hand; kept current by the caller. */
export class NameBook implements View {
  private readonly titles = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private readonly stamps = new Map<string, string>();

  static async load(client: Client, messages: StoredMessage[] = []): Promise<NameBook> {
    const book = new NameBook();
    const me = client.account;
    if (me) book.names.set(me.accountId, me.username);
    for (const g of await client.groups.list()) book.addGroup(g);
    for (const m of messages) book.addMessage(m);
    return book;
  }

  addGroup(g: GroupInfo): void {
    this.titles.set(g.conversation, g.title);
    for (const m of g.members) this.names.set(m.accountId, m.username);
  }

  addMessage(m: StoredMessage): void {
    this.names.set(m.from.accountId, m.from.username);
    this.stamps.set(`${m.conversation}\n${m.timestamp}`, m.id);
    for (const r of m.reactions ?? []) if (r.username) this.names.set(r.accountId, r.username);
  }

  groupTitle(conversation: string): string | undefined {
    return this.titles.get(conversation);
  }

  username(accountId: string): string | undefined {
    return this.names.get(accountId);
  }

  quotedId(conversation: string, timestamp: number): string | undefined {
    return this.stamps.get(`${conversation}\n${timestamp}`);
  }
}

const isGroup = isGroupConversation;

/** A group's title, else a short form of its id: the group state may not have arrived yet. */
function conversationLabel(conversation: string, view?: View): string {
  if (!isGroup(conversation)) return conversation;
  return view?.groupTitle(conversation) ?? `${conversation.slice(0, 10)}…`;
}

export function messageJson(m: StoredMessage, view?: View): Record<string, unknown> {
  const name = (accountId: string) => view?.username(accountId) ?? accountId;
  const out: Record<string, unknown> = {
    id: m.id,
    from: m.from.username,
    device: m.from.deviceId,
    conversation: m.conversation,
    direction: m.direction,
    timestamp: m.timestamp,
    text: m.text,
  };
  if (m.sync) out.sync = true;
  if (m.kind !== 'text') out.kind = m.kind;
  if (m.event) out.event = m.event;
  if (isGroup(m.conversation)) out.group = view?.groupTitle(m.conversation) ?? null;
  if (m.attachments?.length) out.attachments = m.attachments;
  if (m.quote) {
    const id = view?.quotedId?.(m.conversation, m.quote.id);
    out.replyTo = { ...(id ? { id } : {}), timestamp: m.quote.id, from: name(m.quote.authorAccountId), text: m.quote.text };
  }
  if (m.reactions?.length) out.reactions = m.reactions.map((r) => ({ from: r.username ?? name(r.accountId), emoji: r.emoji }));
  if (m.editedAt) out.editedAt = m.editedAt;
  if (m.deleted) out.deleted = true;
  if (m.status) out.status = m.status;
  if (m.receipts) out.receipts = { delivered: m.receipts.delivered.map(name), read: m.receipts.read.map(name) };
  if (m.expireTimer) out.expireTimer = m.expireTimer;
  if (m.expiresAt) out.expiresAt = m.expiresAt;
  if (m.readAt) out.readAt = m.readAt;
  return out;
}

export function timeStamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function attachmentLabel(a: Attachment, withIndex = false): string {
  const what = a.voiceNote
    ? `voice note${a.durationMs !== undefined ? ` ${duration(a.durationMs)}` : ''}, ${formatBytes(a.size)}`
    : `file ${a.fileName ?? '(unnamed)'} (${a.contentType}, ${formatBytes(a.size)})`;
  return `${withIndex ? `#${a.index} ` : ''}${what}${a.state === 'failed' ? ', unavailable' : ''}`;
}

/** The message's content and what happened to it, on one line. */
function body(m: StoredMessage, view?: View): string {
  const parts: string[] = [];
  if (m.quote) {
    const author = view?.username(m.quote.authorAccountId) ?? 'someone';
    parts.push(`(reply to ${author}: "${clip(m.quote.text, 40)}")`);
  }
  if (m.deleted) parts.push('(deleted)');
  else {
    if (m.text) parts.push(m.text);
    const atts = m.attachments ?? [];
    for (const a of atts) parts.push(`[${attachmentLabel(a, atts.length > 1)}]`);
    if (m.editedAt) parts.push('(edited)');
  }
  if (m.reactions?.length) {
    parts.push(`(${m.reactions.map((r) => `${r.emoji} ${r.username ?? view?.username(r.accountId) ?? 'someone'}`).join(', ')})`);
  }
  if (m.direction === 'outgoing') {
    if (m.status === 'failed') parts.push('(not sent)');
    else if (m.receipts?.read.length) parts.push('(read)');
    else if (m.receipts?.delivered.length) parts.push('(delivered)');
  }
  if (m.expireTimer && !m.deleted) parts.push(`(disappears ${formatTimer(m.expireTimer)} after reading)`);
  return parts.join(' ');
}

/**
 * One line per message: "[time] alice: hi" for a direct message, "[time] you → bob: hi"
 * for our own, "[time] alice → Book club: hi" in a group; events start with "*".
 */
export function messageLine(m: StoredMessage, view?: View): string {
  const time = timeStamp(m.timestamp);
  const where = conversationLabel(m.conversation, view);
  if (m.kind !== 'text') {
    // Timer events stored before events had parts say only "disappearing messages set".
    const timer = m.kind === 'timer' && !m.event && m.expireTimer ? ` (${formatTimer(m.expireTimer)})` : '';
    return `[${time}] ${where}: * ${m.text}${timer}`;
  }
  let who: string;
  if (m.direction === 'outgoing') who = `you → ${where}`;
  else who = isGroup(m.conversation) ? `${m.from.username} → ${where}` : m.from.username;
  return `[${time}] ${who}: ${body(m, view)}`;
}

/** What a reader sees change (not receipts or download state): decides whether an update is worth printing. */
export function visibleState(m: StoredMessage): string {
  return JSON.stringify([m.text, m.editedAt, m.deleted, m.reactions?.map((r) => [r.accountId, r.emoji]), m.attachments?.map((a) => a.state === 'failed')]);
}

export function groupDigits(digits: string, size = 5): string {
  return digits.match(new RegExp(`.{1,${size}}`, 'g'))?.join(' ') ?? digits;
}
