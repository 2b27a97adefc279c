import { ErrorCode } from '@kluis/protocol';

/** The HTTP status each error code answers with; clients switch on `code`, proxies on status. */
export const errorStatus: Record<ErrorCode, number> = {
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.InvalidInvite]: 403,
  [ErrorCode.UsernameTaken]: 409,
  [ErrorCode.InvalidUsername]: 400,
  [ErrorCode.InvalidLinkCode]: 404,
  [ErrorCode.LinkState]: 409,
  [ErrorCode.TooManyDevices]: 409,
  [ErrorCode.InvalidSignature]: 400,
  [ErrorCode.MismatchedDevices]: 409,
  [ErrorCode.StaleDevices]: 410,
  [ErrorCode.NotPrimary]: 403,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.SubscriptionExpired]: 402,
  [ErrorCode.AccountSuspended]: 403,
  [ErrorCode.InvalidCode]: 403,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.QuotaExceeded]: 403,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.QueueFull]: 507,
  [ErrorCode.StorageFull]: 507,
  [ErrorCode.TooManyPreKeys]: 409,
  [ErrorCode.HeadersTooLarge]: 431,
  [ErrorCode.UriTooLong]: 414,
  [ErrorCode.RequestTimeout]: 408,
  [ErrorCode.Internal]: 500,
};

/**
 * An error meant for the client: the message is a sentence a user may read, so it must
 * never carry secrets or another user's data. `extra` adds fields to the JSON body
 * (409/410 device lists).
 */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra?: Record<string, unknown>,
    status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status ?? errorStatus[code];
  }

  toBody(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

export const badRequest = (message: string) => new ApiError(ErrorCode.BadRequest, message);
export const unauthorized = (message = 'missing or invalid credentials') => new ApiError(ErrorCode.Unauthorized, message);
export const forbidden = (message: string) => new ApiError(ErrorCode.Forbidden, message);
export const conflict = (message: string) => new ApiError(ErrorCode.Conflict, message);
export const notFound = (message: string) => new ApiError(ErrorCode.NotFound, message);
export const notPrimary = () =>
  new ApiError(ErrorCode.NotPrimary, 'only the primary device (device 1) of the account may do this');

/**
 * Network-level PostgreSQL codes and SQLSTATEs that mean "the database is not reachable
 * right now" (connection refused or cut, server shutting down or starting): the request
 * may succeed if retried, so it answers 503, not 500.
 */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

export function isStoreUnavailable(err: unknown): boolean {
  if (err instanceof ApiError) return err.code === ErrorCode.Unavailable;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  // AggregateError from a dual-stack connect attempt.
  return Array.isArray(e.errors) && e.errors.some(isStoreUnavailable);
}

/** Seconds a client should wait before retrying a 503 (Retry-After and `retryAfterSeconds`). */
export const RETRY_AFTER_SECONDS = 2;

export const storeUnavailable = (message = 'the database is unreachable; try again shortly') =>
  new ApiError(ErrorCode.Unavailable, message, { retryAfterSeconds: RETRY_AFTER_SECONDS });

/**
 * A write refused because the disk is full: SQLite's SQLITE_FULL, a file write's ENOSPC or
 * EDQUOT, PostgreSQL's disk_full (53100). Not retryable within seconds, so not a 503.
 */
export function isStorageFull(err: unknown): boolean {
  // An ApiError is an answer, not the disk: a quota such as the attachment caps says 507 too.
  if (err instanceof ApiError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || code === '53100';
}

/** Seconds a sender is told to wait when the server's disk is full. */
export const STORAGE_FULL_RETRY_SECONDS = 60;

export const storageFull = () =>
  new ApiError(
    ErrorCode.StorageFull,
    "the server's storage is full, so nothing new can be stored; messages already accepted are kept and delivered. Try again later",
    { retryAfterSeconds: STORAGE_FULL_RETRY_SECONDS },
  );
