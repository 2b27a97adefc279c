import { randomBytes, randomInt } from 'node:crypto';
import {
  IdentityKeyPair,
  KEMKeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  PrivateKey,
  SignedPreKeyRecord,
} from '@signalapp/libsignal-client';
import { MAX_REGISTRATION_ID, type KyberPreKey, type PreKey, type SignedPreKey } from '@kluis/protocol';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export interface DeviceKeySet {
  upload: { signedPreKey: SignedPreKey; kyberLastResort: KyberPreKey; preKeys: PreKey[]; kyberPreKeys: KyberPreKey[] };
  signed: SignedPreKeyRecord;
  lastResort: KyberPreKeyRecord;
  preKeys: PreKeyRecord[];
  kyberPreKeys: KyberPreKeyRecord[];
}

/** Real libsignal keys signed by `identity`, as a client would generate and upload them. */
export function generateDeviceKeys(
  identity: IdentityKeyPair,
  opts: { preKeys?: number; kyberPreKeys?: number; firstId?: number; signWith?: IdentityKeyPair } = {},
): DeviceKeySet {
  const signer = opts.signWith ?? identity;
  const first = opts.firstId ?? 1;
  const spkPriv = PrivateKey.generate();
  const spkPub = spkPriv.getPublicKey();
  const signed = SignedPreKeyRecord.new(first, Date.now(), spkPub, spkPriv, signer.privateKey.sign(spkPub.serialize()));
  const lastResortPair = KEMKeyPair.generate();
  const lastResort = KyberPreKeyRecord.new(
    100_000 + first,
    Date.now(),
    lastResortPair,
    signer.privateKey.sign(lastResortPair.getPublicKey().serialize()),
  );
  const preKeys = Array.from({ length: opts.preKeys ?? 0 }, (_, i) => {
    const priv = PrivateKey.generate();
    return PreKeyRecord.new(first + i, priv.getPublicKey(), priv);
  });
  const kyberPreKeys = Array.from({ length: opts.kyberPreKeys ?? 0 }, (_, i) => {
    const pair = KEMKeyPair.generate();
    return KyberPreKeyRecord.new(first + i, Date.now(), pair, signer.privateKey.sign(pair.getPublicKey().serialize()));
  });
  return {
    upload: {
      signedPreKey: { keyId: signed.id(), publicKey: b64(signed.publicKey().serialize()), signature: b64(signed.signature()) },
      kyberLastResort: { keyId: lastResort.id(), publicKey: b64(lastResort.publicKey().serialize()), signature: b64(lastResort.signature()) },
      preKeys: preKeys.map((k) => ({ keyId: k.id(), publicKey: b64(k.publicKey().serialize()) })),
      kyberPreKeys: kyberPreKeys.map((k) => ({ keyId: k.id(), publicKey: b64(k.publicKey().serialize()), signature: b64(k.signature()) })),
    },
    signed,
    lastResort,
    preKeys,
    kyberPreKeys,
  };
}

export function newIdentity(): IdentityKeyPair {
  return IdentityKeyPair.generate();
}

export function newRegistrationId(): number {
  return randomInt(1, MAX_REGISTRATION_ID + 1);
}

/** A client-made device password: 192 random bits. */
export function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

export { b64 };
