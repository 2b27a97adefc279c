import type { Envelope } from '@kluis/protocol';

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

export interface ClientEvents {
  message: [StoredMessage];
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
  beforeCommit?: (envelope: Envelope) => void | Promise<void>;
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
}
