import { create } from '@bufbuild/protobuf';
import { pb } from '@kluis/protocol';

export type CallMedia = 'audio' | 'video';
export type CallHangupReason = 'normal' | 'declined' | 'no-answer' | 'busy' | 'answered-elsewhere' | 'declined-elsewhere' | 'failed';

/** One device of an account, the other end of a targeted signal. */
export interface CallDevice {
  accountId: string;
  deviceId: number;
}

/**
 * A call signal as a UI sends and hears it. WebRTC's SDP and ICE candidates are opaque
 * strings here: the SDK carries them end to end and never reads them.
 * - 1:1: `offer`, `answer`, `hangup` and `busy` go to every device of both accounts (so the
 *   callee's other devices stop ringing and every device can log the call); `ice` and any
 *   signal with `to` go to that one device.
 * - Groups: `join` and `leave` go to the group; its members' devices then connect in pairs
 *   with targeted `offer`/`answer`/`ice`/`hangup`.
 */
export type CallSignal =
  | { type: 'offer'; callId: string; media: CallMedia; sdp: string; to?: CallDevice }
  | { type: 'answer'; callId: string; sdp: string; to?: CallDevice }
  | { type: 'ice'; callId: string; candidates: string[]; to: CallDevice }
  | { type: 'hangup'; callId: string; reason: CallHangupReason; to?: CallDevice }
  | { type: 'busy'; callId: string }
  | { type: 'join'; callId: string; media: CallMedia }
  | { type: 'leave'; callId: string };

const T = pb.CallMessage_Type;
const M = pb.CallMessage_Media;
const R = pb.CallMessage_Reason;

const REASONS: Array<[CallHangupReason, pb.CallMessage_Reason]> = [
  ['normal', R.NORMAL],
  ['declined', R.DECLINED],
  ['no-answer', R.NO_ANSWER],
  ['busy', R.BUSY],
  ['answered-elsewhere', R.ANSWERED_ELSEWHERE],
  ['declined-elsewhere', R.DECLINED_ELSEWHERE],
  ['failed', R.FAILED],
];

const media = (m: CallMedia) => (m === 'video' ? M.VIDEO : M.AUDIO);
const mediaOf = (m: pb.CallMessage_Media): CallMedia => (m === M.VIDEO ? 'video' : 'audio');

/** The wire form; `sentAt` and the group id are the SDK's to fill in. */
export function toCallMessage(s: CallSignal, sentAt: number, groupId?: Uint8Array<ArrayBuffer>): pb.CallMessage {
  const to = 'to' in s && s.to ? { toAccountId: s.to.accountId, toDeviceId: s.to.deviceId } : {};
  const base = { callId: s.callId, sentAt: BigInt(sentAt), ...(groupId ? { groupId } : {}), ...to };
  switch (s.type) {
    case 'offer':
      return create(pb.CallMessageSchema, { ...base, type: T.OFFER, media: media(s.media), sdp: s.sdp });
    case 'answer':
      return create(pb.CallMessageSchema, { ...base, type: T.ANSWER, sdp: s.sdp });
    case 'ice':
      return create(pb.CallMessageSchema, { ...base, type: T.ICE, candidates: s.candidates });
    case 'hangup':
      return create(pb.CallMessageSchema, { ...base, type: T.HANGUP, reason: REASONS.find(([r]) => r === s.reason)![1] });
    case 'busy':
      return create(pb.CallMessageSchema, { ...base, type: T.BUSY });
    case 'join':
      return create(pb.CallMessageSchema, { ...base, type: T.JOIN, media: media(s.media) });
    case 'leave':
      return create(pb.CallMessageSchema, { ...base, type: T.LEAVE });
  }
}

/** The UI's form of a received (already validated: protocol's validateCallMessage) signal. */
export function fromCallMessage(m: pb.CallMessage): CallSignal {
  const to = m.toAccountId !== undefined && m.toDeviceId !== undefined ? { to: { accountId: m.toAccountId, deviceId: m.toDeviceId } } : {};
  const callId = m.callId;
  switch (m.type) {
    case T.OFFER:
      return { type: 'offer', callId, media: mediaOf(m.media), sdp: m.sdp!, ...to };
    case T.ANSWER:
      return { type: 'answer', callId, sdp: m.sdp!, ...to };
    case T.ICE:
      return { type: 'ice', callId, candidates: [...m.candidates], to: to.to! };
    case T.HANGUP:
      return { type: 'hangup', callId, reason: REASONS.find(([, r]) => r === m.reason)?.[0] ?? 'normal', ...to };
    case T.BUSY:
      return { type: 'busy', callId };
    case T.JOIN:
      return { type: 'join', callId, media: mediaOf(m.media) };
    default:
      return { type: 'leave', callId };
  }
}

export const isTargeted = (s: CallSignal): boolean => 'to' in s && s.to !== undefined;
