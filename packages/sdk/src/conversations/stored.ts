import type { pb } from '@kluis/protocol';
import type { AttachmentMeta } from '../attachments/pointer.js';
import { b64 } from '../keys.js';
import type { MessageRow } from '../store/data-store.js';
import type { ConversationStore } from '../store/conversation-store.js';
import type { StoredAttachment, StoredMessage } from '../types.js';
import { parseEvent } from './conversation-events.js';

/** An attachment as the messages table keeps it (JSON): the pointer, plus the local state. */
export interface AttachmentRecord extends AttachmentMeta {
  id: string;
  /** base64 */
  key: string;
  /** base64 */
  digest: string;
  size: number;
  state: 'pending' | 'downloaded' | 'failed';
  /** The verified, still encrypted blob inside the profile directory (relative path). */
  localPath?: string;
}

/** The record the messages table keeps for an attachment pointer that arrived (or left) in a message. */
export function attachmentRecord(a: pb.AttachmentPointer, state: AttachmentRecord['state']): AttachmentRecord {
  return {
    id: a.id,
    key: b64(a.key),
    digest: b64(a.digest),
    size: Number(a.size),
    contentType: a.contentType,
    ...(a.fileName !== undefined ? { fileName: a.fileName } : {}),
    ...(a.width !== undefined ? { width: a.width } : {}),
    ...(a.height !== undefined ? { height: a.height } : {}),
    ...(a.durationMs !== undefined ? { durationMs: a.durationMs } : {}),
    ...(a.voiceNote ? { voiceNote: true } : {}),
    state,
  };
}

export function parseAttachments(json: string | null | undefined): AttachmentRecord[] {
  if (!json) return [];
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as AttachmentRecord[]) : [];
  } catch {
    return [];
  }
}

export function toStored(m: MessageRow, conv?: ConversationStore, usernameOf?: (accountId: string) => string | undefined): StoredMessage {
  const s: StoredMessage = {
    id: m.id,
    conversation: m.conversation,
    direction: m.direction,
    from: { accountId: m.senderAccountId, username: m.senderUsername, deviceId: m.senderDevice },
    timestamp: m.timestamp,
    text: m.body,
    kind: m.kind ?? 'text',
  };
  if (m.serverTimestamp !== null) s.serverTimestamp = m.serverTimestamp;
  if (m.sync) s.sync = true;
  if (m.status) s.status = m.status;
  const event = parseEvent(m.event);
  if (event) s.event = event;
  if (m.groupId) s.groupId = m.groupId;
  const atts = parseAttachments(m.attachments);
  if (atts.length > 0) s.attachments = atts.map(publicAttachment);
  if (m.quote) {
    try {
      s.quote = JSON.parse(m.quote) as StoredMessage['quote'];
    } catch {
      /* a broken quote is not worth failing the message */
    }
  }
  if (m.editedAt) s.editedAt = m.editedAt;
  if (m.deleted) s.deleted = true;
  if (m.expireTimer) s.expireTimer = m.expireTimer;
  if (m.expiresAt) s.expiresAt = m.expiresAt;
  if (m.readAt) s.readAt = m.readAt;
  if (conv) {
    const reactions = conv.reactions(m.id);
    if (reactions.length > 0)
      s.reactions = reactions.map((r) => {
        const username = usernameOf?.(r.accountId);
        return username ? { accountId: r.accountId, username, emoji: r.emoji } : { accountId: r.accountId, emoji: r.emoji };
      });
    if (m.direction === 'outgoing') {
      const rs = conv.receipts(m.id);
      if (rs.length > 0)
        s.receipts = {
          delivered: rs.filter((r) => r.type === 'delivery').map((r) => r.accountId),
          read: rs.filter((r) => r.type === 'read').map((r) => r.accountId),
        };
    }
  }
  return s;
}

function publicAttachment(a: AttachmentRecord, index: number): StoredAttachment {
  const out: StoredAttachment = { index, contentType: a.contentType, size: a.size, state: a.state };
  if (a.fileName !== undefined) out.fileName = a.fileName;
  if (a.width !== undefined) out.width = a.width;
  if (a.height !== undefined) out.height = a.height;
  if (a.durationMs !== undefined) out.durationMs = a.durationMs;
  if (a.voiceNote) out.voiceNote = true;
  return out;
}
