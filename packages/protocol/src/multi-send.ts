import { Type, type Static } from '@sinclair/typebox';
import { Base64, DeviceId, RegistrationId, Timestamp, Uuid } from './common.js';
import { ErrorCode } from './errors.js';
import { MAX_DEVICES_PER_ACCOUNT, MAX_GROUP_MEMBERS, MAX_MESSAGE_BYTES } from './limits.js';
import { EnvelopeTypeSchema } from './messages.js';

/**
 * One destination device of a multi-recipient send. `type` and `content` are present
 * exactly when the request has no `shared` ciphertext (per-device 1:1 ciphertexts).
 */
export const MultiSendDevice = Type.Object(
  {
    deviceId: DeviceId,
    registrationId: RegistrationId,
    type: Type.Optional(EnvelopeTypeSchema),
    content: Type.Optional(Base64(MAX_MESSAGE_BYTES)),
  },
  { additionalProperties: false },
);
export type MultiSendDevice = Static<typeof MultiSendDevice>;

/**
 * An account and the devices the sender believes it has. An empty list is allowed: it
 * asks the server to check (the own account when the sender knows no other device).
 */
export const MultiSendRecipient = Type.Object(
  {
    accountId: Uuid,
    devices: Type.Array(MultiSendDevice, { maxItems: MAX_DEVICES_PER_ACCOUNT }),
  },
  { additionalProperties: false },
);
export type MultiSendRecipient = Static<typeof MultiSendRecipient>;

/** One ciphertext the server copies to every listed device (a sender-key message). */
export const SharedCiphertext = Type.Object(
  { type: EnvelopeTypeSchema, content: Base64(MAX_MESSAGE_BYTES) },
  { additionalProperties: false },
);
export type SharedCiphertext = Static<typeof SharedCiphertext>;

/**
 * PUT /v1/messages, or a 'send-multi' frame on the socket: one request, one durable
 * commit, many accounts (group messages, group control messages, typing indicators).
 * Either `shared` is set and no device carries content (one upload, fanned out by the
 * server), or every device carries its own `type` + `content`. The sender's own account
 * may be listed (sync copies) but never the sending device itself. Nothing is stored
 * unless every account's device list reconciles (404, then 409, then 410).
 * `online`: never stored; pushed only to devices connected right now.
 * `shortLived`: kept in the queue only briefly (expires within the hour, coarse like every
 * stored time), for call signals that are useless after a minute.
 * `urgent`: a hint for push wake-ups; accepted and currently unused.
 */
export const MultiSendRequest = Type.Object(
  {
    /** Optional: left out when only the own account is listed (sync copies). */
    timestamp: Type.Optional(Timestamp),
    online: Type.Optional(Type.Boolean()),
    shortLived: Type.Optional(Type.Boolean()),
    urgent: Type.Optional(Type.Boolean()),
    shared: Type.Optional(SharedCiphertext),
    recipients: Type.Array(MultiSendRecipient, { minItems: 1, maxItems: MAX_GROUP_MEMBERS }),
  },
  { additionalProperties: false },
);
export type MultiSendRequest = Static<typeof MultiSendRequest>;

/**
 * `skipped`: for a sealed multi send, the one device that was left out (see SealedMultiRequest).
 * `queueFull`: devices whose queues were full (see QueueFullBody): nothing was stored for
 * them, everything else was. Sending again to them alone is the sender's choice.
 */
export const MultiSendResponse = Type.Object({
  serverTimestamp: Timestamp,
  skipped: Type.Optional(Type.Array(Type.Object({ accountId: Uuid, deviceId: Type.Integer() }))),
  queueFull: Type.Optional(Type.Array(Type.Object({ accountId: Uuid, deviceIds: Type.Array(Type.Integer()) }))),
});
export type MultiSendResponse = Static<typeof MultiSendResponse>;

/** 409 of a multi send: every account whose device list is out of date. */
export const MultiMismatchedDevicesBody = Type.Object({
  code: Type.Literal(ErrorCode.MismatchedDevices),
  message: Type.String(),
  mismatched: Type.Array(
    Type.Object({
      accountId: Uuid,
      missingDevices: Type.Array(Type.Integer()),
      extraDevices: Type.Array(Type.Integer()),
    }),
  ),
});
export type MultiMismatchedDevicesBody = Static<typeof MultiMismatchedDevicesBody>;

/** 410 of a multi send: devices that were re-registered, per account. */
export const MultiStaleDevicesBody = Type.Object({
  code: Type.Literal(ErrorCode.StaleDevices),
  message: Type.String(),
  stale: Type.Array(Type.Object({ accountId: Uuid, staleDevices: Type.Array(Type.Integer()) })),
});
export type MultiStaleDevicesBody = Static<typeof MultiStaleDevicesBody>;

/** 404 of a multi send: accounts that do not exist (any more). */
export const UnknownAccountsBody = Type.Object({
  code: Type.Literal(ErrorCode.NotFound),
  message: Type.String(),
  unknownAccounts: Type.Array(Uuid),
});
export type UnknownAccountsBody = Static<typeof UnknownAccountsBody>;

/**
 * 507 of a send: devices whose queues hold as much as the server keeps for one device.
 * Nothing of the request was stored. A 1:1 send is refused so; a multi-recipient send
 * only when every destination device is full (otherwise 200 with `queueFull`).
 */
export const QueueFullBody = Type.Object({
  code: Type.Literal(ErrorCode.QueueFull),
  message: Type.String(),
  retryAfterSeconds: Type.Optional(Type.Integer()),
  full: Type.Array(Type.Object({ accountId: Uuid, deviceIds: Type.Array(Type.Integer()) })),
});
export type QueueFullBody = Static<typeof QueueFullBody>;
