import { Type, type Static } from '@sinclair/typebox';
import { Base64, DeviceId, KeyId, RegistrationId } from './common.js';
import { MAX_PREKEYS_PER_UPLOAD } from './limits.js';

/** Serialized libsignal public keys: 33 bytes EC, 1569 bytes Kyber-1024; signatures 64 bytes. */
export const EcPublicKey = Base64(33);
export const KyberPublicKey = Base64(1600);
export const Signature = Base64(64);

export const PreKey = Type.Object({ keyId: KeyId, publicKey: EcPublicKey }, { additionalProperties: false });
export type PreKey = Static<typeof PreKey>;

export const SignedPreKey = Type.Object(
  { keyId: KeyId, publicKey: EcPublicKey, signature: Signature },
  { additionalProperties: false },
);
export type SignedPreKey = Static<typeof SignedPreKey>;

export const KyberPreKey = Type.Object(
  { keyId: KeyId, publicKey: KyberPublicKey, signature: Signature },
  { additionalProperties: false },
);
export type KyberPreKey = Static<typeof KyberPreKey>;

/** The keys a device publishes; the same shape for registration, linking and refills. */
export const DeviceKeys = {
  signedPreKey: SignedPreKey,
  kyberLastResort: KyberPreKey,
  preKeys: Type.Array(PreKey, { maxItems: MAX_PREKEYS_PER_UPLOAD }),
  kyberPreKeys: Type.Array(KyberPreKey, { maxItems: MAX_PREKEYS_PER_UPLOAD }),
};

/** PUT /v1/keys: refill one-time keys and/or rotate the signed and last-resort keys. */
export const KeyUploadRequest = Type.Object(
  {
    signedPreKey: Type.Optional(SignedPreKey),
    kyberLastResort: Type.Optional(KyberPreKey),
    preKeys: Type.Optional(DeviceKeys.preKeys),
    kyberPreKeys: Type.Optional(DeviceKeys.kyberPreKeys),
  },
  { additionalProperties: false },
);
export type KeyUploadRequest = Static<typeof KeyUploadRequest>;

export const PreKeyCountResponse = Type.Object({ preKeys: Type.Integer(), kyberPreKeys: Type.Integer() });
export type PreKeyCountResponse = Static<typeof PreKeyCountResponse>;

export const DeviceBundle = Type.Object({
  deviceId: DeviceId,
  registrationId: RegistrationId,
  signedPreKey: SignedPreKey,
  preKey: Type.Optional(PreKey),
  /** A one-time Kyber key if any is left, else the device's last-resort key. */
  kyberPreKey: KyberPreKey,
});
export type DeviceBundle = Static<typeof DeviceBundle>;

/** GET /v1/keys/:accountId/:deviceId ('*' for every device). */
export const PreKeyBundleResponse = Type.Object({
  identityKey: EcPublicKey,
  devices: Type.Array(DeviceBundle),
});
export type PreKeyBundleResponse = Static<typeof PreKeyBundleResponse>;
