import { ErrorCode, type CodeType } from '@kluis/protocol';
import type { Executor } from '../db/schema.js';
import { ApiError } from '../errors.js';
import { codeStatus, type InviteStore } from '../store/invites.js';
import { isoDay } from './periods.js';

const errorFor = (type: CodeType) => (type === 'invite' ? ErrorCode.InvalidInvite : ErrorCode.InvalidCode);

/** A code that is not 25 base32 characters cannot be anyone's code: say so before any lookup. */
export function mistypedCode(type: CodeType): ApiError {
  return new ApiError(
    errorFor(type),
    `this ${type} code is mistyped: codes are 25 letters and digits (dashes and case do not matter); check it and try again`,
  );
}

/**
 * Why a redemption failed, in words the holder of the code can act on. Only someone who
 * holds the code learns its status, which tells them nothing about anyone else.
 */
export async function rejectedCode(ex: Executor, invites: InviteStore, codeHash: Buffer, type: CodeType, now: number): Promise<ApiError> {
  const code = await invites.get(ex, codeHash);
  const name = `this ${type} code`;
  if (!code) return new ApiError(errorFor(type), `${name} is unknown: check it for typos`);
  if (code.type !== type) {
    return new ApiError(
      errorFor(type),
      code.type === 'renewal' ? 'this is a renewal code: use it with `kluis renew CODE` on an existing account' : 'this is an invite code: use it to register a new account',
    );
  }
  switch (codeStatus(code, now)) {
    case 'used':
      return new ApiError(errorFor(type), `${name} was already used`);
    case 'revoked':
      return new ApiError(errorFor(type), `${name} was revoked by the service; ask your reseller for a new one`);
    case 'expired':
      return new ApiError(errorFor(type), `${name} expired on ${isoDay(code.expiresAt!)}`);
    default:
      return new ApiError(errorFor(type), `${name} cannot be used for this account`);
  }
}
