import type { Ctx } from '../context.js';
import { eventColumns, parseEvent } from '../conversations/conversation-events.js';
import type { MessageRow } from '../store/data-store.js';
import type { CallMedia } from './call-signal.js';

/** Where a call stands, as its entry in the conversation says. */
export type CallOutcome = 'ringing' | 'answered' | 'ended' | 'declined' | 'missed' | 'busy';

/** The event part of a call entry (ConversationEvent 'call'). Times are this device's own clock. */
export interface CallPart {
  type: 'call';
  direction: 'incoming' | 'outgoing';
  media: CallMedia;
  outcome: CallOutcome;
  /** Talk time, once ended. */
  seconds: number;
  /** When this device learnt the call was answered (0: not answered). */
  answeredAt: number;
}

/** Where a call happens: a peer (1:1) or a group (hex id). */
export interface CallPlace {
  peerAccountId: string | null;
  groupId: string | null;
}

const FINAL: ReadonlySet<CallOutcome> = new Set(['ended', 'declined', 'busy']);

/**
 * Call entries: one message row per call and conversation (kind 'call', id = the call's id),
 * kept by every device from the signals it sees or sends, so both sides' devices show the
 * same call without a message of its own.
 */
export class CallLog {
  constructor(private readonly ctx: Ctx) {}

  /** The entry, if it is this call's in this conversation (by peer or group: a username may be learnt later). */
  get(callId: string, where: CallPlace): { row: MessageRow; part: CallPart } | undefined {
    const row = this.ctx.data.getMessage(callId);
    if (!row || row.kind !== 'call' || (row.peerAccountId ?? null) !== where.peerAccountId || (row.groupId ?? null) !== where.groupId) return undefined;
    const part = parseEvent(row.event)?.[0];
    return part?.type === 'call' ? { row, part } : undefined;
  }

  /** A new entry; undefined when the id is taken (a replay, or an id from another conversation). */
  start(o: {
    callId: string;
    conversation: string;
    peerAccountId: string | null;
    groupId: string | null;
    sender: { accountId: string; username: string; deviceId: number };
    part: Omit<CallPart, 'type' | 'seconds' | 'answeredAt'>;
  }): MessageRow | undefined {
    const now = this.ctx.now();
    const kind = o.groupId ? 'group' : 'direct';
    this.ctx.conv.ensure(o.conversation, kind, o.peerAccountId, 0);
    const part: CallPart = { type: 'call', ...o.part, seconds: 0, answeredAt: o.part.outcome === 'answered' ? now : 0 };
    const row: MessageRow = {
      id: o.callId,
      conversation: o.conversation,
      peerAccountId: o.peerAccountId,
      direction: o.part.direction,
      senderAccountId: o.sender.accountId,
      senderUsername: o.sender.username,
      senderDevice: o.sender.deviceId,
      // This device's clock: a peer's would let it place the entry anywhere in the history.
      timestamp: now,
      serverTimestamp: null,
      ...eventColumns([part]),
      sync: false,
      status: null,
      kind: 'call',
      groupId: o.groupId,
      readAt: o.part.direction === 'incoming' && o.part.outcome !== 'answered' ? null : now,
      receivedAt: now,
    };
    return this.ctx.data.insertMessage(row, null) ? row : undefined;
  }

  /** Moves an entry on; returns the row when it changed. A final outcome stays (a missed call may still turn answered elsewhere). */
  advance(callId: string, where: CallPlace, to: 'answered' | 'hung-up' | 'declined' | 'missed' | 'busy'): MessageRow | undefined {
    const cur = this.get(callId, where);
    if (!cur || FINAL.has(cur.part.outcome)) return undefined;
    const now = this.ctx.now();
    const p = { ...cur.part };
    if (to === 'answered') {
      if (p.outcome === 'answered') return undefined;
      p.outcome = 'answered';
      p.answeredAt = now;
    } else if (to === 'hung-up') {
      if (p.outcome === 'answered') {
        p.outcome = 'ended';
        p.seconds = Math.max(0, Math.round((now - p.answeredAt) / 1000));
      } else if (p.outcome === 'ringing') p.outcome = 'missed';
      else return undefined;
    } else {
      if (p.outcome === 'answered' || p.outcome === to) return undefined;
      p.outcome = to;
    }
    this.ctx.data.updateEvent(callId, eventColumns([p]));
    return this.ctx.data.getMessage(callId);
  }
}
