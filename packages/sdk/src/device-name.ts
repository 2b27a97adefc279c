import type { PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { b64, unb64 } from './keys.js';

// Names are sealed to the account's identity key: the server stores them but only our own
// devices can read them.
const DEVICE_NAME_INFO = 'kluis device name v1';
const MAX_DEVICE_NAME_BYTES = 200;

/** The `name` field of a registration or link request; absent when no name was given. */
export function sealDeviceName(identity: PublicKey, name: string | undefined): { name?: string } {
  if (name === undefined || name === '') return {};
  const bytes = truncateUtf8(name, MAX_DEVICE_NAME_BYTES);
  return { name: b64(identity.seal(new Uint8Array(bytes), DEVICE_NAME_INFO)) };
}

/** Cuts at a character boundary, so a long name stays readable. */
export function truncateUtf8(text: string, maxBytes: number): Uint8Array {
  const encoder = new TextEncoder();
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return bytes;
  const out = new Uint8Array(maxBytes);
  const { written } = encoder.encodeInto(text, out);
  return out.subarray(0, written);
}

/** Undefined when the name cannot be read (sealed to another identity key). */
export function openDeviceName(identity: PrivateKey, sealed: string): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(identity.open(unb64(sealed), DEVICE_NAME_INFO));
  } catch {
    return undefined;
  }
}
