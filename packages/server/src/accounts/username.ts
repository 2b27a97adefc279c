import { ErrorCode, normalizeUsername, USERNAME_MAX, USERNAME_MIN, USERNAME_PATTERN } from '@kluis/protocol';
import { ApiError } from '../errors.js';

const pattern = new RegExp(USERNAME_PATTERN);

/** Normalises (trim, lowercase) and checks the rule; the error states the rule. */
export function checkUsername(input: string): string {
  const username = normalizeUsername(input);
  if (!pattern.test(username)) {
    throw new ApiError(
      ErrorCode.InvalidUsername,
      `usernames are ${USERNAME_MIN} to ${USERNAME_MAX} characters of a-z, 0-9, "_" and "." (case does not matter)`,
    );
  }
  return username;
}
