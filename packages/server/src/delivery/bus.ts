/**
 * Wakes whoever holds a device's socket. The database is the truth; the bus only says
 * "look". In one process it is a Map (local-bus.ts); across nodes it is NATS
 * (nats-bus.ts), where an 'envelopes' event from another node arrives as a plain 'wake'.
 */
import type { EnvelopeHeader } from '@kluis/protocol';
import type { StoredEnvelope } from '../store/envelopes.js';

/** A committed envelope; its `id` is the queue position, so live pushes never reorder or repeat. */
export type LiveEnvelope = StoredEnvelope;

/**
 * An online-only envelope: never stored, so it has no queue position; its content
 * crosses the NATS bus with it (the database cannot supply it to another node).
 */
export interface OnlineEnvelope extends EnvelopeHeader {
  content: Buffer;
}

export type DeviceEvent =
  /** Committed for this device, in queue order. */
  | { type: 'envelopes'; envelopes: LiveEnvelope[] }
  /** Online-only: push now if connected, else drop. */
  | { type: 'online'; envelopes: OnlineEnvelope[] }
  /** Something was queued; read it from the database. */
  | { type: 'wake' }
  /** A connection of this device opened; any other connection must close (4000). */
  | { type: 'connected'; connectionId: string }
  /** The device was removed (4001). */
  | { type: 'removed' }
  /** The device's credentials were replaced by a re-registration (4000). */
  | { type: 'superseded' }
  /** An admin suspended the account (4003), on whichever node holds the socket. */
  | { type: 'suspended' }
  /**
   * Only on ACCESS_CHANGES_KEY: the account's sealed access changed (key, flag, deletion,
   * purge); drop it from the access-key cache. The id only: nothing the database lacks.
   */
  | { type: 'access-changed'; accountId: string };

export type DeviceEventHandler = (event: DeviceEvent) => void;

export interface Bus {
  publish(key: string, event: DeviceEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(key: string, handler: DeviceEventHandler): () => void;
  /**
   * Publishes, then waits until `acks` other nodes confirmed that their handlers ran, or
   * `timeoutMs` (a node that is down must not hold a request); resolves to how many did.
   * For keys every node subscribes to (ACCESS_CHANGES_KEY). Absent in-process, where
   * publish itself runs every handler before it returns.
   */
  publishAcked?(key: string, event: DeviceEvent, acks: number, timeoutMs: number): Promise<number>;
  /** Readiness and metrics; absent for the in-process bus, which is always up. */
  stats?(): { connected: boolean; errors: number };
  close(): Promise<void>;
}

export function deviceKey(accountId: string, deviceId: number): string {
  return `${accountId}.${deviceId}`;
}

/**
 * The one key that is no device: every node subscribes to it for 'access-changed' events.
 * A device key is always two dot-separated tokens, so this single one never collides (on
 * NATS it is the subject kluis.device.access). Whatever else arrives here is the bus
 * saying events may have been missed (the periodic or post-reconnect 'wake').
 */
export const ACCESS_CHANGES_KEY = 'access';
