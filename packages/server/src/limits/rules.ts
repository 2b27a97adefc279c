import { MAX_GROUP_MEMBERS } from '@kluis/protocol';

/**
 * One token bucket kind: `burst` tokens at most, refilled at `perWindow` tokens per
 * `windowMs`. `what` finishes the sentence "too many … ; try again in N s" (a client may
 * show it, so it names no one).
 */
export interface LimitRule {
  burst: number;
  perWindow: number;
  windowMs: number;
  what: string;
}

const MINUTE = 60_000;

/**
 * Per node (a cluster of N nodes allows up to N times these): abuse control, not quotas.
 * The numbers and why:
 * - sealed sends are keyed by destination only (never by sender, which the server must
 *   not learn): a burst of two receipts (delivery + read) from every member of the
 *   largest group, then 20 a second;
 * - failed access keys turn 401 into 429 past 30 a minute per destination; a correct key
 *   is never refused by this bucket (keyed by destination, refusing before the check
 *   would let anyone block sealed delivery to an account for 30 requests a minute);
 * - bundle fetches: a new member of the largest group fetches every member once, then
 *   300 a minute; per target, every member of the largest group twice (adding someone to a
 *   full group), then 600 a minute — this bounds how fast one-time prekeys can be drained;
 * - prekey uploads: the SDK uploads 100 keys when fewer than 10 are left, plus a rotation
 *   every two days, so a device needs a handful per hour even when its keys are fetched at
 *   the target limit; 30 per 10 minutes leaves room for tests and restarts;
 * - link codes: a code is used once by request and once by complete (10 attempts per
 *   2 minutes), polled every 500 ms by fetch; a primary rarely makes more than a few codes;
 * - invites: no identity before registration, so one bucket per node for failed
 *   redemptions (125-bit codes make guessing pointless anyway; this cuts floods, each of
 *   which costs an argon2 hash);
 * - username lookups: the SDK caches the answer, 120 a minute is plenty for people.
 */
export const DEFAULT_LIMITS = {
  sealedSend: { burst: 2 * MAX_GROUP_MEMBERS, perWindow: 1200, windowMs: MINUTE, what: 'sealed messages to this account' },
  sealedAccessFailure: { burst: 30, perWindow: 30, windowMs: MINUTE, what: 'wrong unidentified-access keys for this account' },
  bundleFetch: { burst: MAX_GROUP_MEMBERS, perWindow: 300, windowMs: MINUTE, what: 'prekey bundle fetches from this account' },
  bundleTarget: { burst: 2 * MAX_GROUP_MEMBERS, perWindow: 600, windowMs: MINUTE, what: 'prekey bundle fetches for this account' },
  keyUpload: { burst: 30, perWindow: 30, windowMs: 10 * MINUTE, what: 'prekey uploads from this device' },
  linkCodeCreate: { burst: 10, perWindow: 10, windowMs: 2 * MINUTE, what: 'link codes made by this account' },
  linkCodeUse: { burst: 10, perWindow: 10, windowMs: 2 * MINUTE, what: 'attempts with this link code' },
  linkCodeFetch: { burst: 300, perWindow: 300, windowMs: 2 * MINUTE, what: 'polls with this link code' },
  inviteFailure: { burst: 100, perWindow: 100, windowMs: MINUTE, what: 'registrations with invalid invite codes on this server' },
  usernameLookup: { burst: 120, perWindow: 120, windowMs: MINUTE, what: 'username lookups from this account' },
} satisfies Record<string, LimitRule>;

export type LimitName = keyof typeof DEFAULT_LIMITS;
export type LimitRules = Record<LimitName, LimitRule>;
