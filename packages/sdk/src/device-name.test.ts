import { describe, expect, it } from 'vitest';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { openDeviceName, sealDeviceName, truncateUtf8 } from './device-name.js';

describe('device names', () => {
  it('round-trips through the identity key and stays readable when cut', () => {
    const id = IdentityKeyPair.generate();
    const long = 'ü'.repeat(150); // 300 bytes: the cut falls inside a character
    const { name } = sealDeviceName(id.publicKey, long);
    const opened = openDeviceName(id.privateKey, name!);
    expect(opened).toBe('ü'.repeat(100));
    expect(truncateUtf8('abc', 2)).toEqual(new TextEncoder().encode('ab'));
  });

  it('cannot be opened with another identity', () => {
    const { name } = sealDeviceName(IdentityKeyPair.generate().publicKey, 'laptop');
    expect(openDeviceName(IdentityKeyPair.generate().privateKey, name!)).toBeUndefined();
  });
});
