import { KEMPublicKey, PublicKey } from '@signalapp/libsignal-client';
import { ErrorCode, type KyberPreKey, type PreKey, type SignedPreKey } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import type { SignedKey } from '../store/devices.js';
import type { OneTimeKyberPreKey, OneTimePreKey } from '../store/prekeys.js';

/** Raw bytes of a base64 field the schema already checked is canonical. */
export function bytes(base64: string): Buffer<ArrayBuffer> {
  // Buffer.from(string) always allocates a plain ArrayBuffer; libsignal's types want it said.
  return Buffer.from(base64, 'base64') as Buffer<ArrayBuffer>;
}

/** Deserialises with libsignal: a key that libsignal cannot read is refused at the door. */
export function parseIdentityKey(base64: string): { key: PublicKey; bytes: Buffer } {
  const raw = bytes(base64);
  try {
    return { key: PublicKey.deserialize(raw), bytes: raw };
  } catch {
    throw new ApiError(ErrorCode.BadRequest, 'identityKey is not a valid serialized public key (33 bytes, type 0x05)');
  }
}

function checkEc(raw: Buffer<ArrayBuffer>, what: string): void {
  try {
    PublicKey.deserialize(raw);
  } catch {
    throw new ApiError(ErrorCode.BadRequest, `${what} is not a valid serialized EC public key`);
  }
}

function checkKyber(raw: Buffer<ArrayBuffer>, what: string): void {
  try {
    KEMPublicKey.deserialize(raw);
  } catch {
    throw new ApiError(ErrorCode.BadRequest, `${what} is not a valid serialized Kyber public key`);
  }
}

function checkSignature(identity: PublicKey, publicKey: Buffer<ArrayBuffer>, signature: Buffer<ArrayBuffer>, what: string): void {
  let ok = false;
  try {
    ok = identity.verify(publicKey, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new ApiError(ErrorCode.InvalidSignature, `the signature of ${what} does not verify against the account identity key`);
}

export function verifySignedPreKey(identity: PublicKey, k: SignedPreKey, what = 'signedPreKey'): SignedKey {
  const publicKey = bytes(k.publicKey);
  checkEc(publicKey, what);
  const signature = bytes(k.signature);
  checkSignature(identity, publicKey, signature, what);
  return { keyId: k.keyId, publicKey, signature };
}

export function verifyKyberKey(identity: PublicKey, k: KyberPreKey, what: string): SignedKey {
  const publicKey = bytes(k.publicKey);
  checkKyber(publicKey, what);
  const signature = bytes(k.signature);
  checkSignature(identity, publicKey, signature, what);
  return { keyId: k.keyId, publicKey, signature };
}

export function parsePreKeys(keys: readonly PreKey[] | undefined): OneTimePreKey[] {
  const out: OneTimePreKey[] = [];
  const ids = new Set<number>();
  for (const [i, k] of (keys ?? []).entries()) {
    if (ids.has(k.keyId)) throw new ApiError(ErrorCode.BadRequest, `preKeys[${i}]: key id ${k.keyId} appears twice`);
    ids.add(k.keyId);
    const publicKey = bytes(k.publicKey);
    checkEc(publicKey, `preKeys[${i}]`);
    out.push({ keyId: k.keyId, publicKey });
  }
  return out;
}

export function verifyKyberPreKeys(identity: PublicKey, keys: readonly KyberPreKey[] | undefined): OneTimeKyberPreKey[] {
  const ids = new Set<number>();
  return (keys ?? []).map((k, i) => {
    if (ids.has(k.keyId)) throw new ApiError(ErrorCode.BadRequest, `kyberPreKeys[${i}]: key id ${k.keyId} appears twice`);
    ids.add(k.keyId);
    return verifyKyberKey(identity, k, `kyberPreKeys[${i}]`);
  });
}

export interface VerifiedDeviceKeys {
  signedPreKey: SignedKey;
  kyberLastResort: SignedKey;
  preKeys: OneTimePreKey[];
  kyberPreKeys: OneTimeKyberPreKey[];
}

/** The full key set a new device brings (registration, linking, re-registration). */
export function verifyDeviceKeys(
  identity: PublicKey,
  keys: { signedPreKey: SignedPreKey; kyberLastResort: KyberPreKey; preKeys: PreKey[]; kyberPreKeys: KyberPreKey[] },
): VerifiedDeviceKeys {
  return {
    signedPreKey: verifySignedPreKey(identity, keys.signedPreKey),
    kyberLastResort: verifyKyberKey(identity, keys.kyberLastResort, 'kyberLastResort'),
    preKeys: parsePreKeys(keys.preKeys),
    kyberPreKeys: verifyKyberPreKeys(identity, keys.kyberPreKeys),
  };
}
