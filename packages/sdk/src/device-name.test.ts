import { describe, expect, it } from 'vitest';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { b64 } from './keys.js';
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

  it('are padded: a one-letter name and a 200-byte one seal to the same length', () => {
    const id = IdentityKeyPair.generate();
    const names = ['a', 'pc', 'laptop', "alice's work laptop", 'x'.repeat(200), 'ü'.repeat(150), '\u0000\u0080 ends in a marker\u0080'];
    const lengths = new Set(names.map((n) => sealDeviceName(id.publicKey, n).name!.length));
    expect(lengths.size).toBe(1);
    for (const n of names.slice(0, 5)) expect(openDeviceName(id.privateKey, sealDeviceName(id.publicKey, n).name!)).toBe(n);
    expect(openDeviceName(id.privateKey, sealDeviceName(id.publicKey, names[6]).name!)).toBe(names[6]);
  });

  it('still reads names sealed unpadded before padding existed', () => {
    const id = IdentityKeyPair.generate();
    const old = b64(id.publicKey.seal(new TextEncoder().encode('old phone'), 'kluis device name v1'));
    expect(openDeviceName(id.privateKey, old)).toBe('old phone');
  });
});
