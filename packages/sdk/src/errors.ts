import type { ErrorCode } from '@kluis/protocol';

/**
 * Every code a KluisError of the SDK's own carries: callers (the CLI, the app) switch on
 * these, never on free strings. A ServerError carries the server's code (protocol ErrorCode) instead.
 */
export const SdkErrorCode = {
  AlreadyRegistered: 'ALREADY_REGISTERED',
  AmbiguousGroup: 'AMBIGUOUS_GROUP',
  AttachmentCorrupt: 'ATTACHMENT_CORRUPT',
  AttachmentInvalidMedia: 'ATTACHMENT_INVALID_MEDIA',
  AttachmentTooLarge: 'ATTACHMENT_TOO_LARGE',
  AttachmentTransfer: 'ATTACHMENT_TRANSFER',
  AttachmentUnavailable: 'ATTACHMENT_UNAVAILABLE',
  BadCallSignal: 'BAD_CALL_SIGNAL',
  BadMessageId: 'BAD_MESSAGE_ID',
  BadResendRequest: 'BAD_RESEND_REQUEST',
  BadTimer: 'BAD_TIMER',
  BadTitle: 'BAD_TITLE',
  Blocked: 'BLOCKED',
  Closed: 'CLOSED',
  DecryptionFailed: 'DECRYPTION_FAILED',
  Deleted: 'DELETED',
  DevicesChanging: 'DEVICES_CHANGING',
  EmptyMessage: 'EMPTY_MESSAGE',
  EmptyPrefix: 'EMPTY_PREFIX',
  ForgedSenderCertificate: 'FORGED_SENDER_CERTIFICATE',
  GroupTooLarge: 'GROUP_TOO_LARGE',
  IdentityChanged: 'IDENTITY_CHANGED',
  LinkFailed: 'LINK_FAILED',
  LinkRejected: 'LINK_REJECTED',
  LinkState: 'LINK_STATE',
  MessageNotShown: 'MESSAGE_NOT_SHOWN',
  Network: 'NETWORK',
  NotAdmin: 'NOT_ADMIN',
  NotAGroup: 'NOT_A_GROUP',
  NotAMember: 'NOT_A_MEMBER',
  NotAMessage: 'NOT_A_MESSAGE',
  NotPrimary: 'NOT_PRIMARY',
  NotRegistered: 'NOT_REGISTERED',
  NotYours: 'NOT_YOURS',
  NoIdentity: 'NO_IDENTITY',
  NoProfileKey: 'NO_PROFILE_KEY',
  NoRecipients: 'NO_RECIPIENTS',
  ProfileInvalid: 'PROFILE_INVALID',
  ProfileUnreadable: 'PROFILE_UNREADABLE',
  Protocol: 'PROTOCOL',
  SealedUnreadable: 'SEALED_UNREADABLE',
  SealedUnsupported: 'SEALED_UNSUPPORTED',
  SealingUnavailable: 'SEALING_UNAVAILABLE',
  SelfSend: 'SELF_SEND',
  SenderCertificateMismatch: 'SENDER_CERTIFICATE_MISMATCH',
  Timeout: 'TIMEOUT',
  TimestampInUse: 'TIMESTAMP_IN_USE',
  TooLarge: 'TOO_LARGE',
  TooOld: 'TOO_OLD',
  UnknownAttachment: 'UNKNOWN_ATTACHMENT',
  UnknownGroup: 'UNKNOWN_GROUP',
  UnknownMessage: 'UNKNOWN_MESSAGE',
  UnreadableContent: 'UNREADABLE_CONTENT',
  UnsupportedEnvelope: 'UNSUPPORTED_ENVELOPE',
  WrongPassphrase: 'WRONG_PASSPHRASE',
} as const;
export type SdkErrorCode = (typeof SdkErrorCode)[keyof typeof SdkErrorCode];
/** The server's codes, or any code a newer server may send. */
export type ServerErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode] | (string & {});

/** Every error the SDK throws on purpose is a KluisError with a stable `code`. */
export class KluisError extends Error {
  readonly code: SdkErrorCode | ServerErrorCode;
  constructor(code: SdkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** send() to a contact whose identity key changed and was not yet accepted with trust(). */
export class IdentityChangedError extends KluisError {
  readonly username: string;
  readonly accountId: string;
  constructor(username: string, accountId: string) {
    super('IDENTITY_CHANGED', `the safety number with ${username} changed; verify it and run trust before sending`);
    this.username = username;
    this.accountId = accountId;
  }
}

/** A non-2xx answer of the server; `code` is the server's error code (protocol ErrorCode). */
export class ServerError extends KluisError {
  override readonly code: ServerErrorCode;
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, code: ServerErrorCode, message: string, body?: unknown) {
    // The base class takes the SDK's own codes only (so a typo there fails to compile); this one is the server's.
    super(SdkErrorCode.Network, message);
    this.code = code;
    this.status = status;
    this.body = body;
  }
}

export class WrongPassphraseError extends KluisError {
  constructor() {
    super('WRONG_PASSPHRASE', 'wrong passphrase for this profile (or the database is not a kluis profile)');
  }
}

export class NotRegisteredError extends KluisError {
  constructor() {
    super('NOT_REGISTERED', 'this profile has no account yet: register or link first');
  }
}

export class AlreadyRegisteredError extends KluisError {
  constructor() {
    super('ALREADY_REGISTERED', 'this profile already holds an account');
  }
}

/** The server could not be reached, or the connection broke mid-request. */
export class NetworkError extends KluisError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK', message, options);
  }
}

/** The server answered something that does not match the wire contract. */
export class ProtocolViolationError extends KluisError {
  constructor(message: string) {
    super('PROTOCOL', message);
  }
}

export class TimeoutError extends KluisError {
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

/** Whatever was thrown, as an Error. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
