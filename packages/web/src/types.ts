/** What the local API returns (the SDK's shapes, as JSON). */
export interface Attachment {
  index: number;
  contentType: string;
  size: number;
  fileName?: string;
  width?: number;
  height?: number;
  voiceNote?: boolean;
  state: 'pending' | 'downloaded' | 'failed';
  /** The host can hand it over now (fetched, or sent from here during this session). */
  available?: boolean;
}

/** One part of an event (the SDK's ConversationEvent); names are usernames. */
export type ConversationEvent =
  | { type: 'created'; by: string; title: string }
  | { type: 'left'; by: string }
  | { type: 'removed'; by: string; members: string[] }
  | { type: 'added'; by: string; members: string[] }
  | { type: 'admin'; member: string }
  | { type: 'renamed'; by: string; title: string }
  | { type: 'timer'; by: string; seconds: number }
  | { type: 'picture'; by: string }
  | { type: 'updated'; by: string }
  | { type: 'missing'; count: number };

export interface Message {
  id: string;
  conversation: string;
  direction: 'incoming' | 'outgoing';
  from: { accountId: string; username: string; deviceId: number };
  timestamp: number;
  text: string;
  status?: 'sending' | 'sent' | 'failed';
  sync?: boolean;
  kind: 'text' | 'group-update' | 'timer' | 'missing';
  /** Events stored since clients keep their parts; older ones have only the English `text`. */
  event?: ConversationEvent[];
  attachments?: Attachment[];
  quote?: { id: number; authorAccountId: string; text: string };
  reactions?: Array<{ accountId: string; username?: string; emoji: string }>;
  receipts?: { delivered: string[]; read: string[] };
  editedAt?: number;
  deleted?: boolean;
  expireTimer?: number;
  expiresAt?: number;
  readAt?: number;
}

export interface Conversation {
  id: string;
  kind: 'direct' | 'group';
  title: string;
  unread: number;
  expireTimer: number;
  last?: Message;
  identityChanged?: boolean;
}

export interface Group {
  id: string;
  conversation: string;
  title: string;
  version: number;
  expireTimer: number;
  members: Array<{ accountId: string; username: string; admin: boolean }>;
}

export interface ConversationDetail {
  id: string;
  kind: 'direct' | 'group';
  title: string;
  identityChanged?: boolean;
  group?: Group;
  expireTimer: number;
}

export interface Account {
  accountId: string;
  username: string;
  deviceId: number;
  serverUrl: string;
}

export interface AppState {
  state: 'new' | 'locked' | 'unlocked';
  profile: string;
  account: Account | null;
  connected: boolean;
  /** The server the host was started for (KLUIS_SERVER), to prefill onboarding. */
  defaultServerUrl?: string;
}

export interface Contact {
  username: string;
  name: string | null;
  /** A data: URL of the contact's profile picture, if they shared one. */
  avatar: string | null;
  safetyNumber: string;
  verified: boolean;
  identityChanged: boolean;
}

export interface Device {
  deviceId: number;
  name?: string;
  createdAt: number;
  lastSeenDay?: number;
  current: boolean;
}

export interface Subscription {
  state: string;
  paidUntil: number | null;
  graceEndsAt: number | null;
  brand: { slug: string; name: string; primaryColor: string | null; accentColor: string | null };
  memberInvites: { allowed: boolean; quota: number; used: number };
}

export interface AccountInfo extends Account {
  name: string;
  /** A data: URL of our own profile picture, if set. */
  avatar: string | null;
  subscription: Subscription | null;
}
