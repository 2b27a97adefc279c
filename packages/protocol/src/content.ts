/**
 * The content format inside every ciphertext (proto/kluis/content/v1/content.proto),
 * padded as Signal pads: the protobuf bytes, 0x80, then zeros up to a multiple of 160.
 * Decoding keeps unknown fields (a newer client's additions survive a re-encode) and
 * checks what protobuf cannot: sizes, id lengths, and that the body is present.
 */
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import * as pb from './generated/kluis/content/v1/content_pb.js';
import { MAX_GROUP_MEMBERS } from './limits.js';

export { pb };
export type Content = pb.Content;
export type ContentInit = MessageInitShape<typeof pb.ContentSchema>;

export const CONTENT_VERSION = 1;
export const CONTENT_PADDING_BLOCK = 160;
export const MAX_TEXT_BYTES = 64 * 1024;
export const MAX_ATTACHMENTS_PER_MESSAGE = 32;
export const GROUP_ID_BYTES = 32;
export const PROFILE_KEY_BYTES = 32;
export const ATTACHMENT_KEY_BYTES = 64;
export const ATTACHMENT_DIGEST_BYTES = 32;
/** An SDP with audio, video and screen share is 5–12 KB; twice that and more is not one. */
export const MAX_CALL_SDP_BYTES = 32 * 1024;
export const MAX_CALL_CANDIDATES = 32;
export const MAX_CALL_CANDIDATE_BYTES = 1024;
const CALL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class ContentError extends Error {
  readonly code = 'BAD_CONTENT';
  constructor(message: string) {
    super(message);
    this.name = 'ContentError';
  }
}

export function padContent(plain: Uint8Array): Uint8Array<ArrayBuffer> {
  const len = Math.ceil((plain.length + 1) / CONTENT_PADDING_BLOCK) * CONTENT_PADDING_BLOCK;
  const out = new Uint8Array(len);
  out.set(plain, 0);
  out[plain.length] = 0x80;
  return out;
}

export function unpadContent(padded: Uint8Array): Uint8Array {
  for (let i = padded.length - 1; i >= 0; i--) {
    const b = padded[i]!;
    if (b === 0x80) return padded.subarray(0, i);
    if (b !== 0) throw new ContentError('invalid padding');
  }
  throw new ContentError('invalid padding: no 0x80 terminator');
}

/** Builds a Content message (version filled in) from a plain object. */
export function makeContent(init: ContentInit): Content {
  return create(pb.ContentSchema, { version: CONTENT_VERSION, ...init });
}

export function encodeContent(c: Content | ContentInit): Uint8Array<ArrayBuffer> {
  const msg = '$typeName' in c ? (c as Content) : makeContent(c as ContentInit);
  return padContent(toBinary(pb.ContentSchema, msg));
}

/**
 * Decodes and checks padded content. A Content whose body this version does not know
 * comes back with `body.case === undefined`: callers ignore it (and ack), never crash.
 */
export function decodeContent(bytes: Uint8Array): Content {
  let c: Content;
  try {
    c = fromBinary(pb.ContentSchema, unpadContent(bytes));
  } catch (e) {
    if (e instanceof ContentError) throw e;
    throw new ContentError(`content is not a valid protobuf message: ${(e as Error).message}`);
  }
  if (c.version > CONTENT_VERSION) throw new ContentError(`content version ${c.version} is newer than this client (${CONTENT_VERSION})`);
  if (c.version < 1) throw new ContentError('content has no version');
  validateContent(c);
  return c;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new ContentError(what);
}

function checkText(t: string | undefined, what: string): void {
  if (t !== undefined) check(Buffer.byteLength(t, 'utf8') <= MAX_TEXT_BYTES, `${what} is over ${MAX_TEXT_BYTES} bytes`);
}

function checkTimestamp(t: bigint, what: string): void {
  check(t > 0n && t <= BigInt(Number.MAX_SAFE_INTEGER), `${what} must be a positive safe integer`);
}

export function validateAttachment(a: pb.AttachmentPointer): void {
  check(a.id.length > 0 && a.id.length <= 64, 'attachment id must be 1-64 characters');
  check(a.key.length === ATTACHMENT_KEY_BYTES, `attachment key must be ${ATTACHMENT_KEY_BYTES} bytes`);
  check(a.digest.length === ATTACHMENT_DIGEST_BYTES, `attachment digest must be ${ATTACHMENT_DIGEST_BYTES} bytes`);
  check(a.size <= BigInt(Number.MAX_SAFE_INTEGER), 'attachment size is too large');
  check(a.contentType.length <= 256, 'attachment content type is too long');
  check((a.fileName?.length ?? 0) <= 1024, 'attachment file name is too long');
}

export function validateGroupState(g: pb.GroupState): void {
  check(g.id.length === GROUP_ID_BYTES, `group id must be ${GROUP_ID_BYTES} bytes`);
  check(g.members.length >= 1 && g.members.length <= MAX_GROUP_MEMBERS, `a group has 1 to ${MAX_GROUP_MEMBERS} members`);
  check(Buffer.byteLength(g.title, 'utf8') <= 256, 'group title is over 256 bytes');
  const seen = new Set<string>();
  for (const m of g.members) {
    check(m.accountId.length > 0 && !seen.has(m.accountId), 'group members must be distinct accounts');
    if (m.profileKey !== undefined) check(m.profileKey.length === PROFILE_KEY_BYTES, `a member's profile key must be ${PROFILE_KEY_BYTES} bytes`);
    seen.add(m.accountId);
  }
  check(g.members.some((m) => m.role === pb.GroupRole.ADMIN), 'a group needs at least one admin');
  if (g.avatar) validateAttachment(g.avatar);
}

export function validateDataMessage(d: pb.DataMessage): void {
  checkTimestamp(d.timestamp, 'data.timestamp');
  checkText(d.text, 'data.text');
  check(d.attachments.length <= MAX_ATTACHMENTS_PER_MESSAGE, `at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments`);
  d.attachments.forEach(validateAttachment);
  if (d.quote) checkText(d.quote.text, 'quote.text');
  if (d.reaction) {
    check(d.reaction.emoji.length > 0 && d.reaction.emoji.length <= 32, 'reaction emoji must be 1-32 characters');
    checkTimestamp(d.reaction.targetTimestamp, 'reaction.targetTimestamp');
  }
  if (d.delete) checkTimestamp(d.delete.targetTimestamp, 'delete.targetTimestamp');
  if (d.group) check(d.group.id.length === GROUP_ID_BYTES, `group id must be ${GROUP_ID_BYTES} bytes`);
  if (d.groupUpdate) {
    check(d.group !== undefined && equalBytes(d.group.id, d.groupUpdate.id), 'a group update must name its group');
    validateGroupState(d.groupUpdate);
  }
  if (d.profileKey !== undefined) check(d.profileKey.length === PROFILE_KEY_BYTES, `profile key must be ${PROFILE_KEY_BYTES} bytes`);
}

function validateContent(c: Content): void {
  const b = c.body;
  switch (b.case) {
    case 'data':
      return validateDataMessage(b.value);
    case 'edit':
      checkTimestamp(b.value.targetTimestamp, 'edit.targetTimestamp');
      check(b.value.data !== undefined, 'edit.data is missing');
      return validateDataMessage(b.value.data!);
    case 'sync': {
      const s = b.value;
      if (s.sent?.message) validateDataMessage(s.sent.message);
      if (s.sent?.edit?.data) validateDataMessage(s.sent.edit.data);
      if (s.groupState) validateGroupState(s.groupState);
      if (s.keys) check(s.keys.profileKey.length === PROFILE_KEY_BYTES, `profile key must be ${PROFILE_KEY_BYTES} bytes`);
      return;
    }
    case 'receipt':
      check(b.value.timestamps.length <= 1000, 'at most 1000 timestamps per receipt');
      return;
    case 'typing':
      if (b.value.groupId !== undefined) check(b.value.groupId.length === GROUP_ID_BYTES, 'typing.groupId has the wrong length');
      return;
    case 'resendRequest':
      check(b.value.counters.length <= 1000, 'at most 1000 counters per resend request');
      return;
    case 'call':
      return validateCallMessage(b.value);
    case undefined:
      // A kind from a newer client (or only a sender-key distribution).
      return;
  }
}

/** What every receiver can check of a call signal; what makes sense in a call's state is the SDK's (calls/). */
export function validateCallMessage(m: pb.CallMessage): void {
  const T = pb.CallMessage_Type;
  check(m.type >= T.OFFER && m.type <= T.LEAVE, 'call.type is unknown');
  check(CALL_ID.test(m.callId), 'call.callId must be a lower-case UUID');
  checkTimestamp(m.sentAt, 'call.sentAt');
  if (m.sdp !== undefined) check(m.sdp.length > 0 && Buffer.byteLength(m.sdp, 'utf8') <= MAX_CALL_SDP_BYTES, `call.sdp must be 1 to ${MAX_CALL_SDP_BYTES} bytes`);
  check((m.type === T.OFFER || m.type === T.ANSWER) === (m.sdp !== undefined), 'an offer or answer, and only they, carry an SDP');
  if (m.type === T.OFFER) check(m.media === pb.CallMessage_Media.AUDIO || m.media === pb.CallMessage_Media.VIDEO, 'an offer says audio or video');
  check(m.candidates.length <= MAX_CALL_CANDIDATES, `at most ${MAX_CALL_CANDIDATES} candidates per signal`);
  check(m.type === T.ICE ? m.candidates.length > 0 : m.candidates.length === 0, 'ICE signals, and only they, carry candidates');
  for (const c of m.candidates) check(c.length > 0 && Buffer.byteLength(c, 'utf8') <= MAX_CALL_CANDIDATE_BYTES, `a candidate is 1 to ${MAX_CALL_CANDIDATE_BYTES} bytes`);
  if (m.groupId !== undefined) check(m.groupId.length === GROUP_ID_BYTES, 'call.groupId has the wrong length');
  check((m.toAccountId === undefined) === (m.toDeviceId === undefined), 'a targeted signal names both account and device');
  if (m.toAccountId !== undefined) check(m.toAccountId.length > 0 && m.toAccountId.length <= 64, 'call.toAccountId is too long');
  check(m.senderUsername.length <= 64, 'call.senderUsername is too long');
  if (m.peerAccountId !== undefined) check(m.peerAccountId.length > 0 && m.peerAccountId.length <= 64, 'call.peerAccountId is too long');
  if (m.toDeviceId !== undefined) check(m.toDeviceId >= 1 && m.toDeviceId <= 127, 'call.toDeviceId is out of range');
  if (m.type === T.JOIN || m.type === T.LEAVE) check(m.groupId !== undefined, 'join and leave are for group calls');
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
