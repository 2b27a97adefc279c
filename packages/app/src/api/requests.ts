import { Type } from '@sinclair/typebox';
import { BASE64_FORMAT } from '@kluis/protocol/common';

/**
 * Request bodies, path parameters and query strings of the local API, checked by the
 * host's Fastify (Ajv) before a handler runs, like the server's wire schemas.
 */
const strict = { additionalProperties: false } as const;

/** Loose on purpose: the host normalises it (a leading @, case) and answers INVALID_USERNAME with the rule. */
export const UsernameInput = Type.String({ minLength: 1, maxLength: 64 });
const Passphrase = Type.String({ minLength: 1, maxLength: 1024 });
const ServerUrl = Type.String({ pattern: '^https?://', maxLength: 2048 });
const DeviceName = Type.Optional(Type.String({ maxLength: 64 }));
const CodeInput = Type.String({ minLength: 1, maxLength: 128 });
const Title = Type.String({ minLength: 1, maxLength: 128 });
/** The id of a file handed over with POST /api/files, named in the message that sends it. */
export const FileId = Type.String({ pattern: '^[0-9a-f]{24}$' });

export const RegisterBody = Type.Object(
  { serverUrl: ServerUrl, inviteCode: CodeInput, username: UsernameInput, passphrase: Passphrase, deviceName: DeviceName },
  strict,
);
export const LinkBody = Type.Object({ serverUrl: ServerUrl, code: CodeInput, passphrase: Passphrase, deviceName: DeviceName }, strict);
export const UnlockBody = Type.Object({ passphrase: Passphrase }, strict);
const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
export const SendBody = Type.Object(
  {
    text: Type.Optional(Type.String({ maxLength: 64 * 1024 })),
    replyTo: Type.Optional(Type.String({ maxLength: 128 })),
    files: Type.Optional(Type.Array(FileId, { maxItems: 32 })),
    /** The message's id, made by the page when its user pressed Enter: the same id again is the same message. */
    id: Type.Optional(Type.String({ pattern: UUID })),
  },
  strict,
);
const CallId = Type.String({ pattern: UUID });
const CallMedia = Type.Union([Type.Literal('audio'), Type.Literal('video')]);
const CallTo = Type.Object({ accountId: Type.String({ minLength: 1, maxLength: 64 }), deviceId: Type.Integer({ minimum: 1, maximum: 127 }) }, strict);
const Sdp = Type.String({ minLength: 1, maxLength: 32 * 1024 });
const HangupReason = Type.Union([
  Type.Literal('normal'),
  Type.Literal('declined'),
  Type.Literal('no-answer'),
  Type.Literal('busy'),
  Type.Literal('answered-elsewhere'),
  Type.Literal('declined-elsewhere'),
  Type.Literal('failed'),
]);
/** One call signal (the SDK's CallSignal); the SDP and candidates are WebRTC's, opaque here. */
export const CallSignalBody = Type.Union([
  Type.Object({ type: Type.Literal('offer'), callId: CallId, media: CallMedia, sdp: Sdp, to: Type.Optional(CallTo) }, strict),
  Type.Object({ type: Type.Literal('answer'), callId: CallId, sdp: Sdp, to: Type.Optional(CallTo) }, strict),
  Type.Object(
    { type: Type.Literal('ice'), callId: CallId, candidates: Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { minItems: 1, maxItems: 32 }), to: CallTo },
    strict,
  ),
  Type.Object({ type: Type.Literal('hangup'), callId: CallId, reason: HangupReason, to: Type.Optional(CallTo) }, strict),
  Type.Object({ type: Type.Literal('busy'), callId: CallId }, strict),
  Type.Object({ type: Type.Literal('join'), callId: CallId, media: CallMedia }, strict),
  Type.Object({ type: Type.Literal('leave'), callId: CallId }, strict),
]);
export const CallParams = Type.Object({ id: CallId });
export const TypingBody = Type.Object({ started: Type.Boolean() }, strict);
export const ReactBody = Type.Object({ emoji: Type.String({ minLength: 1, maxLength: 32 }), remove: Type.Optional(Type.Boolean()) }, strict);
export const EditBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: 64 * 1024 }) }, strict);
export const NewChatBody = Type.Object({ username: UsernameInput }, strict);
export const NewGroupBody = Type.Object({ title: Title, members: Type.Array(UsernameInput, { maxItems: 1000 }) }, strict);
export const MembersBody = Type.Object(
  { add: Type.Optional(Type.Array(UsernameInput)), remove: Type.Optional(Type.Array(UsernameInput)), promote: Type.Optional(UsernameInput) },
  strict,
);
export const RenameBody = Type.Object({ title: Title }, strict);
export const TimerBody = Type.Object({ seconds: Type.Integer({ minimum: 0, maximum: 4 * 7 * 24 * 3600 }) }, strict);
export const VerifyBody = Type.Object({ verified: Type.Boolean() }, strict);
/** Largest profile picture the SDK accepts (the page downscales bigger ones first). */
export const MAX_AVATAR_BYTES = 64 * 1024;
/**
 * `avatar`: base64 of the image bytes to set, null to remove it, left out to keep the current one.
 * 64 KiB is 87,384 base64 characters; the byte size is checked again after decoding.
 */
export const ProfileBody = Type.Object(
  {
    name: Type.String({ maxLength: 128 }),
    avatar: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: Math.ceil(MAX_AVATAR_BYTES / 3) * 4, format: BASE64_FORMAT }), Type.Null()])),
  },
  strict,
);
export const RenewBody = Type.Object({ code: CodeInput }, strict);
export const ApproveBody = Type.Object({ code: CodeInput, approve: Type.Boolean() }, strict);

// Path parameters: percent-decoded by the router; the handlers normalise and check them.
const Segment = Type.String({ minLength: 1, maxLength: 256 });
/** A username, or a group's conversation id ("g:" + hex). */
export const ConversationParams = Type.Object({ conv: Segment });
export const UsernameParams = Type.Object({ username: Segment });
export const MessageParams = Type.Object({ id: Segment });
export const AttachmentParams = Type.Object({ id: Segment, index: Type.String({ pattern: '^[0-9]{1,4}$' }) });
export const DeviceParams = Type.Object({ id: Segment });

/** `q`: a full-text search within the conversation instead of its latest messages. */
export const MessagesQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 1024 })) });
export const SearchQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 1024 })) });
/** `for=me`: remove it from this device only; otherwise it is deleted for everyone. */
export const DeleteQuery = Type.Object({ for: Type.Optional(Type.Literal('me')) });

/**
 * POST /api/files: the body is the file's bytes, its Content-Type the file's type; the
 * name travels percent-encoded in a header (a header is ASCII). A voice note recorded in
 * the page says so, with its length in ms for the receiver's player.
 */
export const UploadHeaders = Type.Object({
  'x-file-name': Type.Optional(Type.String({ maxLength: 4096 })),
  'x-voice-note': Type.Optional(Type.String({ maxLength: 8 })),
  'x-duration-ms': Type.Optional(Type.String({ maxLength: 16 })),
});
