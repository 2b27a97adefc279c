import { ContentError, encodeContent, groupConversationId, groupHex, validateCallMessage, type pb, type RelayResponse } from '@kluis/protocol';
import type { Ctx } from '../context.js';
import { KluisError } from '../errors.js';
import type { GroupBook } from '../groups/group-book.js';
import type { GroupSender } from '../groups/group-sender.js';
import { memberOf } from '../groups/group-state.js';
import type { Effects, IncomingMeta } from '../conversations/incoming.js';
import type { Messenger } from '../conversations/messenger.js';
import { toStored } from '../conversations/stored.js';
import type { Sender } from '../sender.js';
import type { MessageRow } from '../store/data-store.js';
import type { StoredMessage } from '../types.js';
import { CallLog } from './call-log.js';
import { fromCallMessage, isTargeted, toCallMessage, type CallSignal } from './call-signal.js';

/** An offer (or a group call's first join) older than this on arrival never rings: it is logged as missed. */
export const RING_WINDOW_MS = 60_000;

/** A signal as a UI hears it (ClientEvents 'call-signal'). */
export interface CallSignalEvent {
  conversation: string;
  from: { accountId: string; username: string; deviceId: number };
  /** From another device of this account (a copy: the call it is making, or answered). */
  fromSelf: boolean;
  /** The sender's clock (ms). */
  sentAt: number;
  /** This device should ring now: a fresh offer or group call, seen for the first time, from someone else. */
  ring: boolean;
  signal: CallSignal;
}

type Sent = { conversation: string; peerAccountId: string | null; groupId: string | null };

/**
 * Call signalling over the message path: what a UI sends goes end to end like a message
 * (sealed where messages are), what arrives is checked against the conversation and the
 * call log, then heard as a 'call-signal' event. Media never passes through here.
 */
export class Calls {
  readonly log: CallLog;
  /** Signals dropped as malformed or out of place (never shown, never a crash). */
  dropped = 0;

  constructor(
    private readonly ctx: Ctx,
    private readonly messenger: Messenger,
    private readonly sender: Sender,
    private readonly groups: GroupSender,
    private readonly book: GroupBook,
    private readonly nextTimestamp: () => number,
  ) {
    this.log = new CallLog(ctx);
  }

  async send(conversation: string, s: CallSignal): Promise<void> {
    const me = this.ctx.me();
    const t = await this.messenger.target(conversation);
    this.messenger.assertCanSend(t);
    const group = t.kind === 'group';
    if (s.type === 'ice' && !isTargeted(s)) throw new KluisError('BAD_CALL_SIGNAL', 'ICE candidates go to one device (`to`)');
    if ((s.type === 'join' || s.type === 'leave') && !group) throw new KluisError('BAD_CALL_SIGNAL', 'join and leave are for group calls');
    if (group && s.type !== 'join' && s.type !== 'leave' && !isTargeted(s))
      throw new KluisError('BAD_CALL_SIGNAL', 'in a group call, offers, answers and hangups go to one device (`to`)');
    if (isTargeted(s) && group && !memberOf(t.state, (s as { to: { accountId: string } }).to.accountId))
      throw new KluisError('NOT_A_MEMBER', 'that device is not in this group');
    const sentAt = this.ctx.now();
    const msg = toCallMessage(s, sentAt, group ? new Uint8Array(t.state.id) : undefined);
    msg.senderUsername = me.username;
    try {
      validateCallMessage(msg);
    } catch (e) {
      throw new KluisError('BAD_CALL_SIGNAL', e instanceof ContentError ? e.message : String(e));
    }
    const content = encodeContent({ body: { case: 'call', value: msg } });
    const ts = this.nextTimestamp();
    // Useless after a minute (an offer older than RING_WINDOW_MS never rings), so the server
    // drops them within the hour. A hangup is stored as usual: a device that was away
    // still closes its log entry with it.
    const shortLived = s.type !== 'hangup';
    if (isTargeted(s)) {
      const to = (s as { to: { accountId: string; deviceId: number } }).to;
      await this.sender.sendToAccount(to.accountId, content, ts, { onlyDevices: [to.deviceId], shortLived });
    } else if (t.kind === 'group') {
      await this.groups.sendToGroup(t.groupId, content, ts, { shortLived });
    } else {
      await this.sender.sendToAccount(t.peer.accountId, content, ts, { username: t.peer.username, shortLived });
      if (this.ctx.ownDevices().some((d) => d !== me.deviceId)) {
        msg.peerAccountId = t.peer.accountId;
        const own = encodeContent({ body: { case: 'call', value: msg } });
        await this.sender.sendToAccount(me.accountId, own, this.nextTimestamp(), { username: me.username, shortLived });
      }
    }
    const where: Sent = { conversation: t.conversation, peerAccountId: t.kind === 'direct' ? t.peer.accountId : null, groupId: t.kind === 'group' ? t.groupId : null };
    const existed = this.log.get(s.callId, where) !== undefined;
    const changed = this.ctx.store.transaction(() => this.record(where, s, { accountId: me.accountId, username: me.username, deviceId: me.deviceId }, true, true));
    if (changed) this.ctx.emit(existed ? 'message-updated' : 'message', this.stored(changed));
  }

  /**
   * A received call message (stage 2 of the receive path, inside its transaction): checked,
   * logged, and heard after the commit. A blocked sender never gets here (the applier).
   */
  apply(meta: IncomingMeta, m: pb.CallMessage, fx: Effects): void {
    const me = this.ctx.me();
    const fromSelf = meta.src === me.accountId;
    const s = fromCallMessage(m);
    if (isTargeted(s)) {
      const to = (s as { to: { accountId: string; deviceId: number } }).to;
      // For another device of the account: not ours to act on (and not malformed).
      if (to.accountId !== me.accountId || to.deviceId !== me.deviceId) return;
    } else if (s.type === 'ice') return this.drop();
    let where: Sent;
    if (m.groupId) {
      const groupId = groupHex(m.groupId);
      const state = this.book.state(groupId);
      if (!state || !memberOf(state, meta.src) || !memberOf(state, me.accountId)) return this.drop();
      if (s.type !== 'join' && s.type !== 'leave' && !isTargeted(s)) return this.drop();
      where = { conversation: groupConversationId(m.groupId), peerAccountId: null, groupId };
    } else {
      const peer = fromSelf ? m.peerAccountId : meta.src;
      if (!peer || peer === me.accountId) return this.drop();
      if (this.ctx.conv.isBlocked(peer)) return;
      const username = fromSelf ? (this.ctx.data.usernameOf(peer) ?? peer) : meta.senderUsername;
      where = { conversation: username, peerAccountId: peer, groupId: null };
    }
    const sentAt = Number(m.sentAt);
    const fresh = this.ctx.now() - sentAt <= RING_WINDOW_MS;
    const from = { accountId: meta.src, username: fromSelf ? me.username : meta.senderUsername, deviceId: meta.dev };
    const before = this.log.get(s.callId, where);
    const changed = this.record(where, s, from, fromSelf, fresh);
    if (changed) (before ? fx.updated.add(changed.id) : fx.created.push(changed));
    const rings = (s.type === 'offer' && !isTargeted(s)) || s.type === 'join';
    const ring = rings && !fromSelf && fresh && !before && changed !== undefined;
    const event: CallSignalEvent = { conversation: where.conversation, from, fromSelf, sentAt, ring, signal: s };
    // A replayed or stale offer is logged (or not) but never heard as a new call. A fresh
    // join to a call already known is heard without ringing: those in it connect to the newcomer.
    if (rings && !ring && !fromSelf && !(s.type === 'join' && fresh && changed === undefined && before)) return;
    fx.later.push(() => this.ctx.emit('call-signal', event));
  }

  /** The call rang out here without an answer (the UI's 45 s): logged as missed. */
  dismiss(callId: string): StoredMessage | undefined {
    const row = this.ctx.data.getMessage(callId);
    if (!row || row.kind !== 'call') return undefined;
    const changed = this.log.advance(callId, { peerAccountId: row.peerAccountId ?? null, groupId: row.groupId ?? null }, 'missed');
    if (changed) this.ctx.emit('message-updated', this.stored(changed));
    return changed && this.stored(changed);
  }

  relay(): Promise<RelayResponse> {
    return this.ctx.api().callRelay();
  }

  stored(row: MessageRow): StoredMessage {
    return toStored(row, this.ctx.conv, (a) => this.ctx.data.usernameOf(a));
  }

  /** What a signal does to this device's entry for the call; the row when it changed. */
  private record(where: Sent, s: CallSignal, from: { accountId: string; username: string; deviceId: number }, bySelf: boolean, fresh: boolean): MessageRow | undefined {
    if (isTargeted(s) || s.type === 'ice') return undefined;
    const { callId } = s;
    const at = where;
    const start = (outcome: 'ringing' | 'answered' | 'missed', media: 'audio' | 'video') =>
      this.log.start({ callId, ...where, sender: from, part: { direction: bySelf ? 'outgoing' : 'incoming', media, outcome } });
    const known = this.log.get(callId, at) !== undefined;
    switch (s.type) {
      case 'offer':
        return known ? undefined : start(fresh || bySelf ? 'ringing' : 'missed', s.media);
      case 'join':
        if (!known) return start(bySelf ? 'answered' : fresh ? 'ringing' : 'missed', s.media);
        return bySelf ? this.log.advance(callId, at, 'answered') : undefined;
      case 'leave':
        return bySelf ? this.log.advance(callId, at, 'hung-up') : undefined;
      case 'answer':
        return this.log.advance(callId, at, 'answered');
      case 'busy':
        return this.log.advance(callId, at, 'busy');
      case 'hangup':
        return this.log.advance(
          callId,
          at,
          s.reason === 'declined' || s.reason === 'declined-elsewhere' ? 'declined' : s.reason === 'busy' ? 'busy' : 'hung-up',
        );
    }
  }

  private drop(): void {
    this.dropped++;
  }
}
