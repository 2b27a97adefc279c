import { describe, expect, it } from 'vitest';
import { IdentityKeyPair, PrivateKey, PublicKey, KEMPublicKey } from '@signalapp/libsignal-client';
import {
  generateKyberPreKey,
  generatePassword,
  generateRegistrationId,
  generateSignedPreKey,
  linkVerificationNumber,
  nextKeyId,
  unb64,
} from './keys.js';

describe('key generation', () => {
  it('registration ids fit libsignal multi-recipient limits; passwords are long', () => {
    for (let i = 0; i < 200; i++) {
      const r = generateRegistrationId();
      expect(r).toBeGreaterThanOrEqual(1);
      expect(r).toBeLessThanOrEqual(0x3fff);
    }
    expect(generatePassword().length).toBeGreaterThanOrEqual(22);
    expect(generatePassword()).not.toBe(generatePassword());
    expect(nextKeyId(0xffffff)).toBe(1);
  });
  it('signed and Kyber prekeys are signed by the identity key', () => {
    const id = IdentityKeyPair.generate();
    const spk = generateSignedPreKey(id, 7, 1000);
    expect(spk.record.id()).toBe(7);
    expect(id.publicKey.verify(unb64(spk.upload.publicKey), unb64(spk.upload.signature))).toBe(true);
    const k = generateKyberPreKey(id, 9, 1000);
    expect(k.upload.keyId).toBe(9);
    expect(KEMPublicKey.deserialize(unb64(k.upload.publicKey)).serialize().length).toBe(1569);
    expect(id.publicKey.verify(unb64(k.upload.publicKey), unb64(k.upload.signature))).toBe(true);
    expect(PublicKey.deserialize(unb64(spk.upload.publicKey)).serialize().length).toBe(33);
  });
  it('link verification number: 30 digits in 6 groups, deterministic, key-dependent', () => {
    const a = PrivateKey.generate().getPublicKey().serialize();
    const b = PrivateKey.generate().getPublicKey().serialize();
    const va = linkVerificationNumber(a);
    expect(va).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(linkVerificationNumber(a)).toBe(va);
    expect(linkVerificationNumber(b)).not.toBe(va);
  });
});
