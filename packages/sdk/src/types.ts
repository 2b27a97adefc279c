import type { CallSignalEvent } from './calls/calls.js';
/**
 * An envelope as the device socket delivers it (ServerFrame.envelope, socket.proto): the
 * ciphertext as raw bytes. `source*` and `timestamp` are absent on sealed envelopes.
 */
export type ReceivedEnvelope = PlainEnvelope;

import type { AttachmentMeta } from './attachments/pointer.js';
import type { PlainEnvelope } from '@kluis/protocol';

export interface StoredMessage {
  /** Server guid for incoming (and received sync copies), a local id for outgoing. */
  id: string;
  /** The peer's username. */
  conversation: string;
  direction: 'incoming' | 'outgoing';
  from: { accountId: string; username: string; deviceId: number };
  /** The sender's timestamp (ms), the message's identity across devices. */
  timestamp: number;
  serverTimestamp?: number;
  text: string;
  /** A copy of what another of our own devices sent. */
  sync?: boolean;
  /** Outgoing messages sent from this device: whether the server acknowledged them. */
  status?: 'sending' | 'sent' | 'failed';
  /** 'text' (also with attachments), 'group-update' and 'timer' events, 'missing' markers, 'call' entries. */
  kind: 'text' | 'group-update' | 'timer' | 'missing' | 'call';
  /**
   * Events ('group-update', 'timer', 'missing'): what happened, one part per change, so a
   * UI can say it in its own language (`text` is the same in English). Absent on events
   * stored before clients kept it, and on text messages.
   */
  event?: ConversationEvent[];
  /** Group conversations: the group's id (hex). */
  groupId?: string;
  attachments?: StoredAttachment[];
  quote?: { id: number; authorAccountId: string; text: string };
  reactions?: Array<{ accountId: string; username?: string; emoji: string }>;
  /** Outgoing: who confirmed delivery / reading (account ids). */
  receipts?: { delivered: string[]; read: string[] };
  /** When the text was last edited (the earlier versions: messageHistory()). */
  editedAt?: number;
  /** Deleted for everyone (or disappeared): the text and files are gone. */
  deleted?: boolean;
  /** Disappearing timer in seconds, and when it runs out (set once read). */
  expireTimer?: number;
  expiresAt?: number;
  readAt?: number;
}

/**
 * One part of an event in a conversation. People are named by username, as this device
 * knew them when the event was stored.
 */
export type ConversationEvent =
  /** Someone created the group (the first state this device saw). */
  | { type: 'created'; by: string; title: string }
  | { type: 'left'; by: string }
  | { type: 'removed'; by: string; members: string[] }
  | { type: 'added'; by: string; members: string[] }
  /** `member` was made an admin (by whoever changed the group). */
  | { type: 'admin'; member: string }
  | { type: 'renamed'; by: string; title: string }
  /** Disappearing messages set to `seconds` (0: off), in a group or a direct conversation. */
  | { type: 'timer'; by: string; seconds: number }
  | { type: 'picture'; by: string }
  /** A group change with nothing else to show (e.g. a member's profile key). */
  | { type: 'updated'; by: string }
  /** This many messages from the sender did not arrive (the marker shrinks as they turn up). */
  | { type: 'missing'; count: number }
  /** A message from the sender arrived but could not be shown (it failed to apply, and was set aside). */
  | { type: 'not-shown' }
  /** A call (calls/call-log.ts): `seconds` of talk once ended; times are this device's clock. */
  | {
      type: 'call';
      direction: 'incoming' | 'outgoing';
      media: 'audio' | 'video';
      outcome: 'ringing' | 'answered' | 'ended' | 'declined' | 'missed' | 'busy';
      seconds: number;
      answeredAt: number;
    };

export interface StoredAttachment extends AttachmentMeta {
  index: number;
  size: number;
  /** 'pending' until fetched and verified; 'failed' when the blob was refused or gone. */
  state: 'pending' | 'downloaded' | 'failed';
}

export interface ConversationInfo {
  id: string;
  kind: 'direct' | 'group';
  /** Username (direct) or group title. */
  title: string;
  unread: number;
  expireTimer: number;
  last?: StoredMessage;
}

export interface GroupInfo {
  id: string;
  conversation: string;
  title: string;
  version: number;
  expireTimer: number;
  members: Array<{ accountId: string; username: string; admin: boolean }>;
  /** The group has a picture (saveGroupAvatar). */
  hasAvatar: boolean;
  /** This account is (still) a member: false after leaving or being removed. */
  member: boolean;
}

export interface DeviceInfo {
  deviceId: number;
  /** Decrypted device name, if one was set and could be opened. */
  name?: string;
  createdAt: number;
  /** Midnight UTC of the last day the device connected. */
  lastSeenDay?: number;
  /** This device. */
  current: boolean;
}

export type ConnectionState = 'connected' | 'disconnected' | 'replaced' | 'removed';

/**
 * What the client is busy with right now, for a host to log when something takes too long.
 * Keys are account ids or `group:<id>` (local diagnostics only: never sent anywhere).
 */
export interface ClientDiagnostics {
  connected: boolean;
  /** Per-account (and per-group) locks held: how long, and how many wait behind each. */
  locks: Array<{ key: string; heldMs: number; waiting: number }>;
  /** HTTP requests waiting for the server, by route name. */
  http: Array<{ route: string; ms: number }>;
  /** Sends over the socket waiting for their answer. */
  socketRequests: number;
  /** Received envelopes not processed yet. */
  receiveBacklog: number;
}

export interface ClientEvents {
  message: [StoredMessage];
  /** An edit, delete, reaction, receipt, download or expiry changed a stored message. */
  'message-updated': [StoredMessage];
  /** A message disappeared or was deleted locally (the row is gone). */
  'message-removed': [{ id: string; conversation: string }];
  typing: [{ conversation: string; accountId: string; username: string; started: boolean }];
  /** A call signal for this device (calls/calls.ts): the UI runs the media, the SDK only carries and logs. */
  'call-signal': [CallSignalEvent];
  'group-updated': [GroupInfo];
  /** A gap stayed open: `count` messages from a sender did not arrive (a resend was asked). */
  'messages-missing': [{ conversation: string; accountId: string; count: number }];
  'identity-changed': [{ username: string; accountId: string }];
  'queue-empty': [];
  connection: [{ state: ConnectionState }];
  'decryption-error': [{ accountId: string; deviceId: number; timestamp: number }];
  error: [Error];
  /** From 14 days before paid-until (checked on every connect), and while in grace or suspended. */
  'subscription-expiring': [{ paidUntil: number; state: string; daysLeft: number }];
}

export interface ClientHooks {
  /** Called after decrypting an envelope, before committing the result (fault injection in tests). */
  beforeCommit?: (envelope: ReceivedEnvelope) => void | Promise<void>;
  /**
   * Called inside the transaction that applies a received message to its conversation, once
   * per attempt (fault injection in tests: a throw makes the attempt fail).
   */
  beforeApply?: (message: { guid: string; sourceAccount: string; attempt: number }) => void;
}

export interface OpenOptions {
  profileDir: string;
  passphrase: string;
  clock?: () => number;
  hooks?: ClientHooks;
  /** Socket keepalive interval (default 30 s). */
  pingIntervalMs?: number;
  /** How often link flows poll the server (default 500 ms). */
  pollIntervalMs?: number;
  /** false: never seal (every send names its sender to the server); for tests and comparisons. */
  sealedSender?: boolean;
  /** How long a gap in a sender's message counters may stay open before it is reported (default 30 s). */
  gapWindowMs?: number;
  /** Attachments up to this size are fetched as soon as their message arrives (default 100 MiB). */
  autoDownloadBytes?: number;
  /** More nodes of the same service (cluster mode), beside the URL the account registered with. */
  serverUrls?: string[];
  /** This client's region (e.g. 'eu-nl'): nodes there are tried first. */
  region?: string;
  /** Learn the live nodes from GET /v1/nodes on each connect (default true). */
  bootstrap?: boolean;
}
