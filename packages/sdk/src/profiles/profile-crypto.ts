import { createHash, randomBytes } from 'node:crypto';
import { Aes256GcmSiv } from '@signalapp/libsignal-client';
import { MAX_PROFILE_AVATAR_BYTES, MAX_PROFILE_CIPHERTEXT_BYTES, MAX_PROFILE_NAME_BYTES } from '@kluis/protocol';
import { ProfileInvalidError, ProfileUnreadableError } from './errors.js';

/** What a profile shows of its account: a display name and, optionally, an avatar image. */
export interface UserProfile {
  name: string;
  /** Image bytes (≤ MAX_PROFILE_AVATAR_BYTES); the format is the clients' business. */
  avatar?: Uint8Array<ArrayBuffer>;
}

export interface EncryptedProfile {
  /** Lowercase hex, 64 characters: see profileVersion. */
  version: string;
  ciphertext: Uint8Array<ArrayBuffer>;
}

export const PROFILE_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const OVERHEAD = NONCE_BYTES + TAG_BYTES;
const FORMAT = 1;
/** format (1) + name length (2) + avatar length (4). */
const HEADER_BYTES = 7;

/**
 * Every ciphertext has one of these sizes, so the server learns only "no avatar" or the
 * rough size class of the avatar, never the length of the name or image.
 */
export const PROFILE_CIPHERTEXT_BUCKETS = [1024, 16 * 1024, 64 * 1024, MAX_PROFILE_CIPHERTEXT_BYTES] as const;

/** A fresh profile key: shared with contacts inside encrypted messages, never with the server. */
export function generateProfileKey(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(randomBytes(PROFILE_KEY_BYTES));
}

/**
 * SHA-256(profileKey ‖ accountId), hex. Stored next to the ciphertext so a client holding
 * a key can tell, before decrypting, whether the profile was written with that key; the
 * hash reveals nothing of a 256-bit random key.
 */
export function profileVersion(profileKey: Uint8Array, accountId: string): string {
  checkKey(profileKey);
  return createHash('sha256').update(profileKey).update(accountId, 'utf8').digest('hex');
}

/** AES-256-GCM-SIV (libsignal) over the padded profile, bound to `accountId`; nonce prepended. */
export function encryptProfile(profileKey: Uint8Array, accountId: string, profile: UserProfile): EncryptedProfile {
  checkKey(profileKey);
  const plaintext = encode(profile);
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  const sealed = Aes256GcmSiv.new(copy(profileKey)).encrypt(plaintext, nonce, associatedData(accountId));
  const ciphertext = new Uint8Array(NONCE_BYTES + sealed.length);
  ciphertext.set(nonce, 0);
  ciphertext.set(sealed, NONCE_BYTES);
  return { version: profileVersion(profileKey, accountId), ciphertext };
}

/** Opens a profile written by encryptProfile; anything else throws ProfileUnreadableError. */
export function decryptProfile(profileKey: Uint8Array, accountId: string, ciphertext: Uint8Array): UserProfile {
  if (profileKey.length !== PROFILE_KEY_BYTES) throw new ProfileUnreadableError(`a profile key has ${PROFILE_KEY_BYTES} bytes, not ${profileKey.length}`);
  if (ciphertext.length < OVERHEAD + HEADER_BYTES || ciphertext.length > MAX_PROFILE_CIPHERTEXT_BYTES) {
    throw new ProfileUnreadableError(`a profile ciphertext of ${ciphertext.length} bytes cannot be one`);
  }
  let plaintext: Uint8Array;
  try {
    plaintext = Aes256GcmSiv.new(copy(profileKey)).decrypt(
      copy(ciphertext.subarray(NONCE_BYTES)),
      copy(ciphertext.subarray(0, NONCE_BYTES)),
      associatedData(accountId),
    );
  } catch (e) {
    throw new ProfileUnreadableError('the profile does not open with this key for this account', { cause: e });
  }
  return decode(plaintext);
}

function checkKey(profileKey: Uint8Array): void {
  if (profileKey.length !== PROFILE_KEY_BYTES) throw new ProfileInvalidError(`a profile key has ${PROFILE_KEY_BYTES} bytes, not ${profileKey.length}`);
}

function associatedData(accountId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(accountId, 'utf8'));
}

/** libsignal wants ArrayBuffer-backed arrays; callers may hold views of anything. */
function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** The smallest bucket's plaintext size that holds `length` bytes. */
function paddedLength(length: number): number {
  for (const bucket of PROFILE_CIPHERTEXT_BUCKETS) if (length + OVERHEAD <= bucket) return bucket - OVERHEAD;
  throw new ProfileInvalidError('the profile does not fit the largest profile size');
}

function encode(profile: UserProfile): Uint8Array<ArrayBuffer> {
  if (typeof profile.name !== 'string') throw new ProfileInvalidError('a profile needs a name');
  const name = Buffer.from(profile.name, 'utf8');
  if (name.length > MAX_PROFILE_NAME_BYTES) throw new ProfileInvalidError(`the name is ${name.length} bytes in UTF-8; at most ${MAX_PROFILE_NAME_BYTES} fit`);
  const avatar = profile.avatar ?? new Uint8Array(0);
  if (avatar.length > MAX_PROFILE_AVATAR_BYTES) {
    throw new ProfileInvalidError(`the avatar is ${avatar.length} bytes; at most ${MAX_PROFILE_AVATAR_BYTES} fit`);
  }
  const length = HEADER_BYTES + name.length + avatar.length;
  // Zero-filled: the padding is part of the authenticated plaintext.
  const out = Buffer.alloc(paddedLength(length));
  out.writeUInt8(FORMAT, 0);
  out.writeUInt16BE(name.length, 1);
  name.copy(out, 3);
  out.writeUInt32BE(avatar.length, 3 + name.length);
  out.set(avatar, HEADER_BYTES + name.length);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function decode(plaintext: Uint8Array): UserProfile {
  const p = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length);
  const unreadable = (why: string) => new ProfileUnreadableError(`the profile opened but is malformed: ${why}`);
  if (p.readUInt8(0) !== FORMAT) throw unreadable(`unknown format ${p.readUInt8(0)}`);
  const nameLength = p.readUInt16BE(1);
  if (nameLength > MAX_PROFILE_NAME_BYTES || 3 + nameLength + 4 > p.length) throw unreadable('name length out of range');
  const avatarLength = p.readUInt32BE(3 + nameLength);
  const end = HEADER_BYTES + nameLength + avatarLength;
  if (avatarLength > MAX_PROFILE_AVATAR_BYTES || end > p.length) throw unreadable('avatar length out of range');
  // One encoding per profile: a writer that leaks data into the padding is refused.
  if (p.subarray(end).some((b) => b !== 0)) throw unreadable('padding is not zero');
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(p.subarray(3, 3 + nameLength));
  } catch (e) {
    throw new ProfileUnreadableError('the profile name is not valid UTF-8', { cause: e });
  }
  if (avatarLength === 0) return { name };
  return { name, avatar: new Uint8Array(p.subarray(HEADER_BYTES + nameLength, end)) };
}
