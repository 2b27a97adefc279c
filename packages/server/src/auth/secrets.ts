import { createHash, randomBytes } from 'node:crypto';
import { CODE_ALPHABET, formatCode, normalizeCode } from '@kluis/protocol';

/** Invite codes: 25 Crockford base32 characters = 125 bits. */
export const INVITE_CODE_LENGTH = 25;
/** Link codes: 16 characters = 80 bits, enough for a single-use code that lives 10 minutes. */
export const LINK_CODE_LENGTH = 16;

export function sha256(input: string | Uint8Array): Buffer {
  return createHash('sha256').update(input).digest();
}

/** `length` characters of Crockford base32, 5 random bits each, from the CSPRNG. */
export function randomCode(length: number): string {
  const bytes = randomBytes(Math.ceil((length * 5) / 8));
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      bits -= 5;
      out += CODE_ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/** A fresh code as shown to people (grouped by 4) and the hash the database keeps. */
export function newCode(length: number): { display: string; hash: Buffer } {
  const code = randomCode(length);
  return { display: formatCode(code), hash: sha256(code) };
}

/**
 * Codes carry ≥ 80 bits of entropy, so a fast hash is enough: nobody can enumerate the
 * preimages of a leaked table. Normalising first makes "abcd-efgh" and "ABCDEFGH" equal.
 */
export function hashCode(input: string): Buffer {
  return sha256(normalizeCode(input));
}

/** 256-bit operator token, URL-safe so it survives shells and headers. */
export function newOperatorToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256(token) };
}
