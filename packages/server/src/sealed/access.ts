import { timingSafeEqual } from 'node:crypto';
import { ACCESS_KEY_BYTES } from '@kluis/protocol';

/** XOR of several access keys (a multi-recipient send presents the combination). */
export function combineAccessKeys(keys: readonly Uint8Array[]): Buffer {
  const out = Buffer.alloc(ACCESS_KEY_BYTES);
  for (const k of keys) for (let i = 0; i < ACCESS_KEY_BYTES; i++) out[i]! ^= k[i] ?? 0;
  return out;
}

/** Constant-time comparison; a missing stored key never matches. */
export function accessKeyMatches(stored: Uint8Array | null, presented: Uint8Array): boolean {
  if (!stored || stored.length !== ACCESS_KEY_BYTES || presented.length !== ACCESS_KEY_BYTES) return false;
  return timingSafeEqual(Buffer.from(stored), Buffer.from(presented));
}

/** The header's key, or undefined when absent or malformed (both answer the same 401). */
export function parseAccessKeyHeader(value: string | string[] | undefined): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]{22}==$/.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}
