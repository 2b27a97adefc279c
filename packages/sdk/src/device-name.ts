import type { PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { b64, unb64 } from './keys.js';

// Names are sealed to the account identity key: the server stores them but only our own
// devices can read them. v2 pads every name to one size so its length does not show; v1
// (unpadded) names stored before that are still read.
const DEVICE_NAME_INFO = 'kluis device name v2';
const LEGACY_DEVICE_NAME_INFO = 'kluis device name v1';
const MAX_DEVICE_NAME_BYTES = 200;
/** Every sealed name is this many bytes before sealing: a name, a 0x80 marker, zeros. */
export const PADDED_DEVICE_NAME_BYTES = 256;

/** The `name` field of a registration or link request; absent when no name was given. */
export function sealDeviceName(identity: PublicKey, name: string | undefined): { name?: string } {
  if (name === undefined || name === '') return {};
  const bytes = truncateUtf8(name, MAX_DEVICE_NAME_BYTES);
  return { name: b64(identity.seal(padName(bytes), DEVICE_NAME_INFO)) };
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
  const bytes = unb64(sealed);
  const decode = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(b);
  try {
    const unpadded = unpadName(identity.open(bytes, DEVICE_NAME_INFO));
    return unpadded && decode(unpadded);
  } catch {
    // Not a v2 name: an unpadded one from before padding, or someone else's.
  }
  try {
    return decode(identity.open(bytes, LEGACY_DEVICE_NAME_INFO));
  } catch {
    return undefined;
  }
}

// ISO/IEC 7816-4 padding (as Signal pads message bodies): unambiguous for any name bytes.
function padName(name: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(PADDED_DEVICE_NAME_BYTES);
  out.set(name);
  out[name.length] = 0x80;
  return out;
}

function unpadName(padded: Uint8Array): Uint8Array | undefined {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  return end >= 0 && padded[end] === 0x80 ? padded.subarray(0, end) : undefined;
}
