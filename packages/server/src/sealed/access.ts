import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ACCESS_KEY_BYTES } from '@kluis/protocol';

/**
 * What an account without a usable key is compared against: a random key made per
 * process, never stored or sent, so nothing presented can match it (2^-128) and a missing
 * key costs the same comparison as a real one (no timing difference to learn from).
 */
const NO_KEY = randomBytes(ACCESS_KEY_BYTES);

/** XOR of several access keys (a multi-recipient send presents the combination). */
export function combineAccessKeys(keys: readonly Uint8Array[]): Buffer {
  const out = Buffer.alloc(ACCESS_KEY_BYTES);
  for (const k of keys) for (let i = 0; i < ACCESS_KEY_BYTES; i++) out[i]! ^= k[i] ?? 0;
  return out;
}

/** Constant-time comparison; a missing stored key never matches (and is compared all the same). */
export function accessKeyMatches(stored: Uint8Array | null, presented: Uint8Array): boolean {
  const usable = stored !== null && stored.length === ACCESS_KEY_BYTES;
  const fits = presented.length === ACCESS_KEY_BYTES;
  const equal = timingSafeEqual(usable ? Buffer.from(stored) : NO_KEY, fits ? Buffer.from(presented) : Buffer.alloc(ACCESS_KEY_BYTES));
  return usable && fits && equal;
}

/** One recipient account as the access check sees it; undefined when it does not exist. */
export interface RecipientAccess {
  key: Buffer | null;
  unrestricted: boolean;
}

/**
 * A single sealed send: the recipient's own key, or any key when it takes sealed mail from
 * anyone (`unrestricted`, the SDK's `sealedFromAnyone`). An account that never set a key
 * takes none, and an unknown one is compared against the stand-in key, so both refuse
 * after the same work as a wrong key.
 */
export function singleAccessAllowed(access: RecipientAccess | undefined, presented: Buffer | undefined): boolean {
  const matches = accessKeyMatches(access?.key ?? null, presented ?? NO_KEY);
  return presented !== undefined && access !== undefined && (access.unrestricted || matches);
}

/**
 * A multi-recipient sealed send presents the XOR of every recipient account's key. An
 * unknown account, or one without a key that does not take sealed mail from anyone, is
 * never left out of the XOR (which would let a missing key count as 16 zero bytes): it
 * contributes the stand-in key and the send is refused, after the same comparison.
 * Unrestricted accounts without a key contribute nothing (they accept any key).
 */
export function multiAccessAllowed(accesses: ReadonlyArray<RecipientAccess | undefined>, presented: Buffer | undefined): boolean {
  let refusable = presented === undefined;
  const keys = accesses.map((a) => {
    if (a?.key && a.key.length === ACCESS_KEY_BYTES) return a.key;
    if (a?.unrestricted) return Buffer.alloc(ACCESS_KEY_BYTES);
    refusable = true;
    return NO_KEY;
  });
  const matches = accessKeyMatches(combineAccessKeys(keys), presented ?? NO_KEY);
  return matches && !refusable;
}

/** The header's key, or undefined when absent or malformed (both answer the same 401). */
export function parseAccessKeyHeader(value: string | string[] | undefined): Buffer | undefined {
  // Canonical only: the last character's unused bits zero, so one key has one spelling.
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]{21}[AQgw]==$/.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}
