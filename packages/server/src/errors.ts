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
