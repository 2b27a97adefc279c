// The subpath, not the index: `kluis server`'s options load this before any schema is needed.
import { MAX_GROUP_MEMBERS } from '@kluis/protocol/limits';

/**
 * One token bucket kind: `burst` tokens at most, refilled at `perWindow` tokens per
 * `windowMs`. `what` finishes the sentence "too many … ; try again in N s" (a client may
 * show it, so it names no one).
 */
export interface LimitRate {
  burst: number;
  perWindow: number;
  windowMs: number;
  what: string;
}

/**
 * `global`, where set, is a kind-wide bucket every take of the kind also pays (after its
 * own key's bucket allowed it): it bounds a flood spread over many keys (guesses at link
 * codes, wrong access keys over many accounts), which per-key buckets cannot.
 */
export interface LimitRule extends LimitRate {
  global?: LimitRate;
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
 * - username lookups: the SDK caches the answer, 120 a minute is plenty for people;
 * - device logins (HTTP and socket): 20 failed argon2 verifies a minute per account id +
 *   device id as presented (known or not, alike) and source address (IPv6 per /64), so
 *   nobody elsewhere can lock the owner out. A token is taken before the verify (past
 *   the limit: 429, no argon2 at all) and given back when the password was right, so only
 *   failures count; a device whose login is cached on this node never reaches the bucket;
 * - link codes per live code (attempts, polls) after the lookup; unknown codes per source
 *   address and per node (linkCodeGuess), before it.
 * Kind-wide (`global`) buckets where a flood spreads over many keys: wrong access keys
 * (1,200 a minute on the node; correct keys never pay it), unknown link codes, failed
 * logins (~100 argon2 verifies a second), username lookups (6,000 a minute: enumeration
 * needs many accounts and is still slow). None on
 * sealed sends (anyone could then stop all sealed mail on a node) nor on per-account
 * kinds whose account is paying and known.
 */
export const DEFAULT_LIMITS = {
  sealedSend: { burst: 2 * MAX_GROUP_MEMBERS, perWindow: 1200, windowMs: MINUTE, what: 'sealed messages to this account' },
  sealedAccessFailure: { burst: 30, perWindow: 30, windowMs: MINUTE, what: 'wrong unidentified-access keys for this account',
    global: { burst: 600, perWindow: 1200, windowMs: MINUTE, what: 'wrong unidentified-access keys on this server' },
  },
  bundleFetch: { burst: MAX_GROUP_MEMBERS, perWindow: 300, windowMs: MINUTE, what: 'prekey bundle fetches from this account' },
  bundleTarget: { burst: 2 * MAX_GROUP_MEMBERS, perWindow: 600, windowMs: MINUTE, what: 'prekey bundle fetches for this account' },
  keyUpload: { burst: 30, perWindow: 30, windowMs: 10 * MINUTE, what: 'prekey uploads from this device' },
  linkCodeCreate: { burst: 10, perWindow: 10, windowMs: 2 * MINUTE, what: 'link codes made by this account' },
  linkCodeUse: { burst: 10, perWindow: 10, windowMs: 2 * MINUTE, what: 'attempts with this link code' },
  linkCodeFetch: { burst: 300, perWindow: 300, windowMs: 2 * MINUTE, what: 'polls with this link code' },
  inviteFailure: { burst: 100, perWindow: 100, windowMs: MINUTE, what: 'registrations with invalid invite codes on this server' },
  usernameLookup: { burst: 120, perWindow: 120, windowMs: MINUTE, what: 'username lookups from this account',
    global: { burst: 1200, perWindow: 6000, windowMs: MINUTE, what: 'username lookups on this server' },
  },
  // Failed logins per device as named in the credentials, and per node: every failure
  // costs an argon2 verify (an invented device too, so the timing tells nothing), so a
  // flood of invented ids is held to ~100 verifies a second (a fifth of a core).
  deviceAuthFailure: { burst: 20, perWindow: 20, windowMs: MINUTE, what: 'failed logins for this device',
    global: { burst: 600, perWindow: 6000, windowMs: MINUTE, what: 'failed logins on this server' },
  },
  // Attachment reservations per account (blob rows name no account, so this lives here
  // only): 200 an hour covers an album of photos every few minutes all day; 2 GiB a day
  // is twenty 100 MiB videos. `--attachment-reservations-per-hour`, `--attachment-mib-per-day`.
  attachmentReserve: { burst: 200, perWindow: 200, windowMs: 60 * MINUTE, what: 'attachment uploads from this account' },
  attachmentBytes: { burst: 2 * 1024 ** 3, perWindow: 2 * 1024 ** 3, windowMs: 24 * 60 * MINUTE, what: 'attachment bytes from this account today' },
  // Identified sends per sending device: 200 a second, a burst of 2,000 (a full group's
  // sender-key distribution plus sync copies). Far above any person, far below a flood
  // that fills an offline queue in seconds (the queue caps hold past it anyway).
  identifiedSend: { burst: 2000, perWindow: 12_000, windowMs: MINUTE, what: 'messages from this device' },
  // Renewal codes are 125 bits: this stops floods (each attempt a transaction). A token is
  // taken first and given back unless the code was refused, so someone who mistypes ten
  // times waits a minute a try, and at once again after ten minutes.
  renewalFailure: { burst: 10, perWindow: 10, windowMs: 10 * MINUTE, what: 'refused renewal codes for this account' },
  // Unknown link codes (80 bits, 10 minutes) on request, complete and fetch: per source
  // address (in memory only, HMAC-keyed like every bucket) and per node. Taken before the
  // lookup (a 429 then tells no hit from a miss), given back when the code exists, so a
  // real linking is never charged.
  linkCodeGuess: { burst: 20, perWindow: 20, windowMs: 5 * MINUTE, what: 'unknown link codes from this address',
    global: { burst: 600, perWindow: 600, windowMs: MINUTE, what: 'unknown link codes on this server' },
  },
} satisfies Record<string, LimitRule>;

export type LimitName = keyof typeof DEFAULT_LIMITS;
export type LimitRules = Record<LimitName, LimitRule>;
