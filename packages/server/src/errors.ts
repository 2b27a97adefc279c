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
