import { Type, type Static } from '@sinclair/typebox';
import { Base64, DeviceId, RegistrationId, Timestamp, Uuid } from './common.js';
import { MAX_DEVICES_PER_ACCOUNT, MAX_MESSAGE_BYTES } from './limits.js';

/** Envelope types use libsignal's CiphertextMessageType numbers, plus Signal's 6 for sealed sender. */
export const EnvelopeType = {
  Whisper: 2,
  PreKey: 3,
  Sealed: 6,
  SenderKey: 7,
  Plaintext: 8,
} as const;
export type EnvelopeType = (typeof EnvelopeType)[keyof typeof EnvelopeType];

export const EnvelopeTypeSchema = Type.Union(Object.values(EnvelopeType).map((t) => Type.Literal(t)));

export const OutgoingMessage = Type.Object(
  {
    deviceId: DeviceId,
    registrationId: RegistrationId,
    type: EnvelopeTypeSchema,
    content: Base64(MAX_MESSAGE_BYTES),
  },
  { additionalProperties: false },
);
export type OutgoingMessage = Static<typeof OutgoingMessage>;

/**
 * PUT /v1/messages/:accountId, or a 'send' frame on the socket. One ciphertext per
 * destination device; to one's own account it is a sync copy and excludes the sender.
 * `resend` answers a decryption-error request: the listed devices may be a subset.
 * `online` (typing indicators and the like): never stored, pushed only to devices
 * connected at that moment, silently dropped for the others.
 */
export const SendRequest = Type.Object(
  {
    timestamp: Timestamp,
    messages: Type.Array(OutgoingMessage, { minItems: 1, maxItems: MAX_DEVICES_PER_ACCOUNT }),
    resend: Type.Optional(Type.Boolean()),
    online: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SendRequest = Static<typeof SendRequest>;

export const SendResponse = Type.Object({ serverTimestamp: Timestamp });
export type SendResponse = Static<typeof SendResponse>;

export const DestinationParams = Type.Object({ accountId: Uuid });
export type DestinationParams = Static<typeof DestinationParams>;

/** What a device receives. `source*` are absent for sealed-sender envelopes. */
export const Envelope = Type.Object({
  guid: Uuid,
  type: EnvelopeTypeSchema,
  sourceAccount: Type.Optional(Uuid),
  sourceDevice: Type.Optional(DeviceId),
  timestamp: Timestamp,
  serverTimestamp: Timestamp,
  content: Base64(MAX_MESSAGE_BYTES),
});
export type Envelope = Static<typeof Envelope>;
