import type { ErrorCode } from '@kluis/protocol';
import { IdentityChangedError, KluisError, ServerError, WrongPassphraseError, type SdkErrorCode } from '@kluis/sdk';
import { AppErrorCode, SdkCodeUsedByHost } from './api/errors.js';

// The contract names these codes for the page without importing the SDK: they must stay the SDK's (or the server's).
void (SdkCodeUsedByHost satisfies Record<string, SdkErrorCode | ErrorCode>);

/** An answer of the local API other than 2xx: `{code, message}` with an HTTP status. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  validation?: unknown[];
  message?: string;
}

/** What Fastify itself throws (schema, content type, body size, URL) in the API's terms. */
function fromFramework(e: FastifyLikeError): AppError | undefined {
  if (Array.isArray(e.validation)) return new AppError(400, AppErrorCode.BadRequest, e.message ?? 'invalid request');
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, AppErrorCode.BadContentType, 'send application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError(400, AppErrorCode.BadJson, 'the body is not JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, AppErrorCode.TooLarge, 'request body too large');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError(400, AppErrorCode.BadRequest, 'the path is not valid');
  }
  if (e instanceof SyntaxError) return new AppError(400, AppErrorCode.BadJson, 'the body is not JSON');
  return undefined;
}

/**
 * SDK errors keep their code so the UI can pick a translated message; anything else is
 * a 500 whose text is not shown to the page (it may hold paths).
 */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof IdentityChangedError) return new AppError(409, e.code, e.message, { username: e.username });
  if (e instanceof WrongPassphraseError) return new AppError(401, e.code, e.message);
  if (e instanceof ServerError) return new AppError(e.status >= 500 ? 502 : 400, e.code, e.message);
  if (e instanceof KluisError) return new AppError(400, e.code, e.message);
  if (e instanceof Error) {
    const framework = fromFramework(e as FastifyLikeError);
    if (framework) return framework;
  }
  return new AppError(500, AppErrorCode.Internal, 'the local host failed; see its terminal');
}
