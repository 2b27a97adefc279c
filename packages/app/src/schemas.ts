import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BASE64_FORMAT, USERNAME_PATTERN } from '@kluis/protocol';
import { AppError } from './errors.js';

/** Request bodies of the local API, checked at the edge like the server's wire schemas. */
const Username = Type.String({ minLength: 1, maxLength: 64 });
const Passphrase = Type.String({ minLength: 1, maxLength: 1024 });
const ServerUrl = Type.String({ pattern: '^https?://', maxLength: 2048 });
const DeviceName = Type.Optional(Type.String({ maxLength: 64 }));
const strict = { additionalProperties: false } as const;

export const RegisterBody = Type.Object(
  { serverUrl: ServerUrl, inviteCode: Type.String({ minLength: 1, maxLength: 128 }), username: Username, passphrase: Passphrase, deviceName: DeviceName },
  strict,
);
export const LinkBody = Type.Object({ serverUrl: ServerUrl, code: Type.String({ minLength: 1, maxLength: 128 }), passphrase: Passphrase, deviceName: DeviceName }, strict);
export const UnlockBody = Type.Object({ passphrase: Passphrase }, strict);
export const SendBody = Type.Object(
  {
    text: Type.Optional(Type.String({ maxLength: 64 * 1024 })),
    replyTo: Type.Optional(Type.String({ maxLength: 128 })),
    files: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9a-f]{24}$' }), { maxItems: 32 })),
  },
  strict,
);
export const TypingBody = Type.Object({ started: Type.Boolean() }, strict);
export const ReactBody = Type.Object({ emoji: Type.String({ minLength: 1, maxLength: 32 }), remove: Type.Optional(Type.Boolean()) }, strict);
export const EditBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: 64 * 1024 }) }, strict);
export const NewChatBody = Type.Object({ username: Username }, strict);
export const NewGroupBody = Type.Object({ title: Type.String({ minLength: 1, maxLength: 128 }), members: Type.Array(Username, { maxItems: 1000 }) }, strict);
export const MembersBody = Type.Object({ add: Type.Optional(Type.Array(Username)), remove: Type.Optional(Type.Array(Username)), promote: Type.Optional(Username) }, strict);
export const RenameBody = Type.Object({ title: Type.String({ minLength: 1, maxLength: 128 }) }, strict);
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
export const RenewBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) }, strict);
export const ApproveBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }), approve: Type.Boolean() }, strict);

export const USERNAME = new RegExp(USERNAME_PATTERN);

export function parse<T extends TSchema>(schema: T, value: unknown): Static<T> {
  if (Value.Check(schema, value)) return value;
  const first = Value.Errors(schema, value).First();
  throw new AppError(400, 'BAD_REQUEST', first ? `${first.path || 'body'}: ${first.message}` : 'invalid request body');
}
