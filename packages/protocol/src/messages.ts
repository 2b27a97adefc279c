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
 * `shortLived`: kept in the queue only briefly (expires within the hour, coarse like
 * every stored time), for call signals that are useless after a minute. With `online`
 * it is just online.
 * `timestamp`: the sender's, for identified sends only. Sealed sends and sync copies
 * leave it out (the content's own timestamp is inside the ciphertext): a value equal
 * on a sealed envelope and on its sender's sync copy would name the sender. A sealed
 * send's timestamp is never stored or pushed.
 */
export const SendRequest = Type.Object(
  {
    timestamp: Type.Optional(Timestamp),
    messages: Type.Array(OutgoingMessage, { minItems: 1, maxItems: MAX_DEVICES_PER_ACCOUNT }),
    resend: Type.Optional(Type.Boolean()),
    online: Type.Optional(Type.Boolean()),
    shortLived: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SendRequest = Static<typeof SendRequest>;

/**
 * `skippedDevices`: a sealed send may leave out one device of the destination in all
 * (the server cannot know the sending device, which never gets its own copy); this lists
 * it, so a sender that left out someone else's device can send to it next.
 */
export const SendResponse = Type.Object({ serverTimestamp: Timestamp, skippedDevices: Type.Optional(Type.Array(Type.Integer())) });
export type SendResponse = Static<typeof SendResponse>;

export const DestinationParams = Type.Object({ accountId: Uuid });
export type DestinationParams = Static<typeof DestinationParams>;

/**
 * The fields of every envelope besides its ciphertext, as the server stores and passes
 * them on (the queue row, the bus event, the online-only push): null where a sealed
 * envelope has no sender, 0 where it carries no timestamp. The wire form (Envelope
 * below) leaves those out, and adds `content` as base64.
 */
export interface EnvelopeHeader {
  guid: string;
  type: number;
  sourceAccount: string | null;
  sourceDevice: number | null;
  timestamp: number;
  serverTimestamp: number;
}

/**
 * What a device receives. `source*` are absent for sealed-sender envelopes, and so is
 * `timestamp` (the sender's, only on identified envelopes that carried one).
 * `serverTimestamp` is coarse (ENVELOPE_TIME_GRANULARITY_MS): what is stored at rest.
 */
export const Envelope = Type.Object({
  guid: Uuid,
  type: EnvelopeTypeSchema,
  sourceAccount: Type.Optional(Uuid),
  sourceDevice: Type.Optional(DeviceId),
  timestamp: Type.Optional(Timestamp),
  serverTimestamp: Timestamp,
  content: Base64(MAX_MESSAGE_BYTES),
});
export type Envelope = Static<typeof Envelope>;
