import { KluisError } from '../errors.js';

/**
 * A fetched profile that this client cannot open: a wrong or stale profile key, a
 * ciphertext for another account, or bytes altered on the way. `stale` is set when the
 * server's version already shows the key is not the one the profile was written with.
 */
export class ProfileUnreadableError extends KluisError {
  readonly stale: boolean;
  constructor(message: string, options?: { cause?: unknown; stale?: boolean }) {
    super('PROFILE_UNREADABLE', message, options);
    this.stale = options?.stale ?? false;
  }
}

/** A profile this client refuses to encrypt: too long a name, too large an avatar, a bad key. */
export class ProfileInvalidError extends KluisError {
  constructor(message: string) {
    super('PROFILE_INVALID', message);
  }
}
