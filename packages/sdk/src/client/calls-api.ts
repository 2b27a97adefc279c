import type { RelayResponse } from '@kluis/protocol';
import type { CallSignal } from '../calls/call-signal.js';
import { parseEvent } from '../conversations/conversation-events.js';
import type { StoredMessage } from '../types.js';
import type { ClientServices } from './create-client.js';

/** Relay credentials are fetched again this long before they expire (and this often when there is no relay). */
const RELAY_REFRESH_MARGIN_MS = 60 * 60 * 1000;

/** One call as this device logged it (`client.calls.history()`, `kluis calls`). */
export interface CallEntry {
  id: string;
  conversation: string;
  direction: 'incoming' | 'outgoing';
  media: 'audio' | 'video';
  outcome: 'ringing' | 'answered' | 'ended' | 'declined' | 'missed' | 'busy';
  /** Talk time once ended. */
  seconds: number;
  /** Who started it (username as this device knew it). */
  by: string;
  /** When this device first saw the call (ms). */
  at: number;
  group: boolean;
}

/**
 * Call signalling, for a UI that runs the media (WebRTC) itself. `client.calls`; what
 * arrives is heard as 'call-signal' events, and each call leaves one 'call' entry in its
 * conversation on every device of both sides.
 */
export class CallsApi {
  private cached: { relay: RelayResponse; until: number } | undefined;

  constructor(private readonly s: ClientServices) {}

  /** Sends one signal into a conversation (a username, or a group's "g:…" id). */
  async signal(conversation: string, signal: CallSignal): Promise<void> {
    this.s.account.me();
    await this.s.convo.calls.send(conversation, signal);
  }

  /**
   * TURN credentials from the server, or `urls: []` when it has no relay. Kept until an
   * hour before they expire: a fetch per call would tell the server when this account
   * is in a call.
   */
  async relay(): Promise<RelayResponse> {
    this.s.account.me();
    const now = Date.now();
    if (this.cached && this.cached.until > now) return this.cached.relay;
    const relay = await this.s.convo.calls.relay();
    const until = relay.expiresAt ? relay.expiresAt - RELAY_REFRESH_MARGIN_MS : now + RELAY_REFRESH_MARGIN_MS;
    this.cached = { relay, until };
    return relay;
  }

  /** This device stopped ringing unanswered: its entry becomes a missed call. */
  dismiss(callId: string): StoredMessage | undefined {
    this.s.account.me();
    return this.s.convo.calls.dismiss(callId);
  }

  /** The latest calls, newest first. */
  history(o: { limit?: number } = {}): CallEntry[] {
    this.s.account.me();
    const out: CallEntry[] = [];
    for (const row of this.s.ctx.data.listCalls(o.limit ?? 100)) {
      const p = parseEvent(row.event)?.[0];
      if (p?.type !== 'call') continue;
      out.push({
        id: row.id,
        conversation: row.conversation,
        direction: p.direction,
        media: p.media,
        outcome: p.outcome,
        seconds: p.seconds,
        by: row.senderUsername,
        at: row.receivedAt ?? row.timestamp,
        group: row.groupId !== null && row.groupId !== undefined,
      });
    }
    return out;
  }

  /** Call signals dropped as malformed or out of place since the client opened. */
  get dropped(): number {
    return this.s.convo.calls.dropped;
  }
}
