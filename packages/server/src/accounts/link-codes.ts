import { ErrorCode, isWellFormedCode } from '@kluis/protocol';
import { hashCode, LINK_CODE_LENGTH } from '../auth/secrets.js';
import { ApiError } from '../errors.js';

export function invalidLinkCode(): ApiError {
  return new ApiError(ErrorCode.InvalidLinkCode, 'this link code is unknown or expired; create a new one on the primary device');
}

export function wrongLinkState(state: string, expected: string): ApiError {
  return new ApiError(ErrorCode.LinkState, `this link code is '${state}', but this step needs '${expected}'`);
}

/** The stored hash of a typed link code; malformed codes are simply unknown. */
export function linkCodeHash(code: string): Buffer {
  if (!isWellFormedCode(code, LINK_CODE_LENGTH)) throw invalidLinkCode();
  return hashCode(code);
}

/** Lowest device id ≥ 2 not in use (removed ids are reused, with a new registration id). */
export function lowestFreeDeviceId(used: readonly number[]): number {
  const taken = new Set(used);
  let id = 2;
  while (taken.has(id)) id++;
  return id;
}
