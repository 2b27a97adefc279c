import { Type, type Static } from '@sinclair/typebox';

/** Every error the API answers with carries one of these codes and a human sentence. */
export const ErrorCode = {
  BadRequest: 'BAD_REQUEST',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  InvalidInvite: 'INVALID_INVITE',
  UsernameTaken: 'USERNAME_TAKEN',
  InvalidUsername: 'INVALID_USERNAME',
  InvalidLinkCode: 'INVALID_LINK_CODE',
  LinkState: 'LINK_STATE',
  TooManyDevices: 'TOO_MANY_DEVICES',
  InvalidSignature: 'INVALID_SIGNATURE',
  MismatchedDevices: 'MISMATCHED_DEVICES',
  StaleDevices: 'STALE_DEVICES',
  NotPrimary: 'NOT_PRIMARY',
  Unavailable: 'UNAVAILABLE',
  /** Past paid-until (grace): the account receives but cannot send until renewed. */
  SubscriptionExpired: 'SUBSCRIPTION_EXPIRED',
  /** Past grace, or suspended by an admin: the socket is refused. */
  AccountSuspended: 'ACCOUNT_SUSPENDED',
  /** A renewal code that is unknown, used, revoked, expired or of the wrong kind. */
  InvalidCode: 'INVALID_CODE',
  /** The thing to create exists already (e.g. a brand slug). */
  Conflict: 'CONFLICT',
  /** A member invite beyond the brand's quota. */
  QuotaExceeded: 'QUOTA_EXCEEDED',
  /** 429: too many requests of one kind; the body's `retryAfterSeconds` and Retry-After say when to try again. */
  RateLimited: 'RATE_LIMITED',
  /** 507: a recipient device's queue holds as many messages (or bytes) as it may; nothing was stored, retry once it drains. */
  QueueFull: 'QUEUE_FULL',
  /** 507: the server's disk is full; nothing was stored, retry later (`retryAfterSeconds`). */
  StorageFull: 'STORAGE_FULL',
  /** 409: the upload would leave the device more one-time prekeys than the server keeps. */
  TooManyPreKeys: 'TOO_MANY_PREKEYS',
  /** 431: the request's header fields (or its request line) are larger than the server reads. */
  HeadersTooLarge: 'HEADERS_TOO_LARGE',
  /** 414: the request's path (or one of its segments) is longer than any route takes. */
  UriTooLong: 'URI_TOO_LONG',
  /** 408: the request did not arrive in full within the server's time limit. */
  RequestTimeout: 'REQUEST_TIMEOUT',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ErrorBody = Type.Object({
  code: Type.String(),
  message: Type.String(),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** 409: the sender's device list for the destination is out of date. */
export const MismatchedDevicesBody = Type.Object({
  code: Type.Literal(ErrorCode.MismatchedDevices),
  message: Type.String(),
  missingDevices: Type.Array(Type.Integer()),
  extraDevices: Type.Array(Type.Integer()),
});
export type MismatchedDevicesBody = Static<typeof MismatchedDevicesBody>;

/** 410: these devices were re-registered (registration id changed). */
export const StaleDevicesBody = Type.Object({
  code: Type.Literal(ErrorCode.StaleDevices),
  message: Type.String(),
  staleDevices: Type.Array(Type.Integer()),
});
export type StaleDevicesBody = Static<typeof StaleDevicesBody>;
