import type { PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { b64, unb64 } from './keys.js';

// Names are sealed to the account's identity key: the server stores them but only our own
// devices can read them.
const DEVICE_NAME_INFO = 'kluis device name v1';
const MAX_DEVICE_NAME_BYTES = 200;

/** The `name` field of a registration or link request; absent when no name was given. */
export function sealDeviceName(identity: PublicKey, name: string | undefined): { name?: string } {
  if (name === undefined || name === '') return {};
  let bytes = Buffer.from(name, 'utf8');
  if (bytes.length > MAX_DEVICE_NAME_BYTES) bytes = bytes.subarray(0, MAX_DEVICE_NAME_BYTES);
  return { name: b64(identity.seal(new Uint8Array(bytes), DEVICE_NAME_INFO)) };
}

/** Undefined when the name cannot be read (sealed to another identity key, or cut mid-character by the byte limit). */
export function openDeviceName(identity: PrivateKey, sealed: string): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(identity.open(unb64(sealed), DEVICE_NAME_INFO));
  } catch {
    return undefined;
  }
}
