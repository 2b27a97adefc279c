import { createHash, randomBytes, randomInt } from 'node:crypto';
import {
  IdentityKeyPair,
  KEMKeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  PrivateKey,
  SignedPreKeyRecord,
} from '@signalapp/libsignal-client';
import type { KyberPreKey, PreKey, SignedPreKey } from '@kluis/protocol';
import { MAX_REGISTRATION_ID } from '@kluis/protocol';

export const MAX_KEY_ID = 0xffffff;

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
export const unb64 = (s: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(s, 'base64'));

export function generateRegistrationId(): number {
  return randomInt(1, MAX_REGISTRATION_ID + 1);
}

/** A random device password: 192 bits, base64url (32 characters). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

export function randomKeyId(): number {
  return randomInt(1, Math.floor(MAX_KEY_ID / 2));
}

/** The id after `id`, wrapping within 1..MAX_KEY_ID. */
export function nextKeyId(id: number): number {
  return id >= MAX_KEY_ID ? 1 : id + 1;
}

export interface GeneratedPreKey {
  record: PreKeyRecord;
  upload: PreKey;
}
export interface GeneratedSignedPreKey {
  record: SignedPreKeyRecord;
  upload: SignedPreKey;
}
export interface GeneratedKyberPreKey {
  record: KyberPreKeyRecord;
  upload: KyberPreKey;
}

export function generatePreKey(id: number): GeneratedPreKey {
  const priv = PrivateKey.generate();
  const pub = priv.getPublicKey();
  return { record: PreKeyRecord.new(id, pub, priv), upload: { keyId: id, publicKey: b64(pub.serialize()) } };
}

export function generateSignedPreKey(identity: IdentityKeyPair, id: number, now: number): GeneratedSignedPreKey {
  const priv = PrivateKey.generate();
  const pub = priv.getPublicKey();
  const signature = identity.privateKey.sign(pub.serialize());
  return {
    record: SignedPreKeyRecord.new(id, now, pub, priv, signature),
    upload: { keyId: id, publicKey: b64(pub.serialize()), signature: b64(signature) },
  };
}

export function generateKyberPreKey(identity: IdentityKeyPair, id: number, now: number): GeneratedKyberPreKey {
  const kp = KEMKeyPair.generate();
  const pub = kp.getPublicKey().serialize();
  const signature = identity.privateKey.sign(pub);
  return {
    record: KyberPreKeyRecord.new(id, now, kp, signature),
    upload: { keyId: id, publicKey: b64(pub), signature: b64(signature) },
  };
}

/**
 * The number both sides of a device link show, so the user can check that the primary seals
 * the account secrets to the key the new device made: 30 digits in groups of 5, from the
 * SHA-256 of the serialized one-time public key (5 bytes per group, mod 100000).
 */
export function linkVerificationNumber(publicKey: Uint8Array): string {
  const h = createHash('sha256').update(publicKey).digest();
  const groups: string[] = [];
  for (let i = 0; i < 6; i++) {
    const n = h.readUIntBE(i * 5, 5) % 100000;
    groups.push(String(n).padStart(5, '0'));
  }
  return groups.join(' ');
}
