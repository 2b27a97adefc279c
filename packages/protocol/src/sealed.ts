import { Type, type Static } from '@sinclair/typebox';
import { Base64, Timestamp } from './common.js';

/*
 * Sealed sender (Signal's design, libsignal's types): the server signs short-lived sender
 * certificates with a server certificate chained to a trust root whose public key the
 * clients pin; sealed sends carry no device credential, only the recipient's
 * unidentified-access key (derived by its owner from the profile key, shared end to end).
 */

/** Header carrying the unidentified-access key (base64 of 16 bytes; XOR of all recipients' keys for a multi-recipient send). */
export const UNIDENTIFIED_ACCESS_HEADER = 'unidentified-access-key';
export const ACCESS_KEY_BYTES = 16;
/** Sender certificates live 7 days; clients refresh them a day ahead. */
export const SENDER_CERTIFICATE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const TrustRootResponse = Type.Object({ publicKey: Base64(64) });
export type TrustRootResponse = Static<typeof TrustRootResponse>;

export const SenderCertificateResponse = Type.Object({ certificate: Base64(4096), expiresAt: Timestamp });
export type SenderCertificateResponse = Static<typeof SenderCertificateResponse>;

export const SetAccessKeyRequest = Type.Object(
  {
    accessKey: Type.String({ pattern: '^[A-Za-z0-9+/]{21}[AQgw]==$', description: 'canonical base64 of 16 bytes' }),
    /** Accept sealed messages from anyone (first contact before profile keys are exchanged). */
    unrestricted: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type SetAccessKeyRequest = Static<typeof SetAccessKeyRequest>;

/**
 * PUT /v1/sealed: one libsignal SealedSenderMultiRecipientMessage, split by the server per
 * recipient. `timestamp` is accepted from older clients and ignored (never stored). A
 * group fan-out lists the sender's own account too (its other devices, or none via
 * libsignal's excludedRecipients), so the recipient set is the group; the server lets
 * one device in all be left out (the sending device, which it cannot name).
 * `online` and `shortLived` as for MultiSendRequest: never stored, or kept in the queue
 * only briefly (expires within the hour, coarse like every stored time), for call
 * signals that are useless after a minute.
 */
export const SealedMultiRequest = Type.Object(
  {
    timestamp: Type.Optional(Timestamp),
    online: Type.Optional(Type.Boolean()),
    shortLived: Type.Optional(Type.Boolean()),
    message: Base64(4 * 1024 * 1024),
  },
  { additionalProperties: false },
);
export type SealedMultiRequest = Static<typeof SealedMultiRequest>;
