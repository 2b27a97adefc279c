import { IdentityChangedError, KluisError, ServerError, WrongPassphraseError } from '@kluis/sdk';

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
  return new AppError(500, 'INTERNAL', 'the local host failed; see its terminal');
}
