import { createHash, randomBytes } from 'node:crypto';
import { Aes256GcmSiv } from '@signalapp/libsignal-client';
import { MAX_PROFILE_AVATAR_BYTES, MAX_PROFILE_CIPHERTEXT_BYTES, MAX_PROFILE_NAME_BYTES, PROFILE_VERSION_PATTERN } from '@kluis/protocol';
import { describe, expect, it } from 'vitest';
import { ProfileInvalidError, ProfileUnreadableError } from './errors.js';
import { decryptProfile, encryptProfile, generateProfileKey, PROFILE_CIPHERTEXT_BUCKETS, profileVersion } from './profile-crypto.js';

const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const bytes = (n: number) => new Uint8Array(randomBytes(n));

function expectUnreadable(fn: () => unknown): ProfileUnreadableError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileUnreadableError);
    expect((e as ProfileUnreadableError).code).toBe('PROFILE_UNREADABLE');
    return e as ProfileUnreadableError;
  }
  throw new Error('expected PROFILE_UNREADABLE, nothing was thrown');
}

/** Seals `plaintext` the way encryptProfile does, to test what decryptProfile makes of odd contents. */
function sealRaw(key: Uint8Array<ArrayBuffer>, accountId: string, plaintext: Uint8Array<ArrayBuffer>): Uint8Array {
  const nonce = bytes(12);
  const sealed = Aes256GcmSiv.new(key).encrypt(plaintext, nonce, new Uint8Array(Buffer.from(accountId)));
  return Buffer.concat([nonce, sealed]);
}

describe('profile keys and versions', () => {
  it('generates 32 random bytes', () => {
    const a = generateProfileKey();
    expect(a).toHaveLength(32);
    expect(Buffer.from(a).equals(Buffer.from(generateProfileKey()))).toBe(false);
  });

  it('derives the version from key and account, as the protocol expects', () => {
    const key = generateProfileKey();
    const v = profileVersion(key, ALICE);
    expect(v).toMatch(new RegExp(PROFILE_VERSION_PATTERN));
    expect(v).toBe(createHash('sha256').update(key).update(ALICE).digest('hex'));
    expect(profileVersion(key, ALICE)).toBe(v);
    expect(profileVersion(key, BOB)).not.toBe(v);
    expect(profileVersion(generateProfileKey(), ALICE)).not.toBe(v);
    expect(encryptProfile(key, ALICE, { name: 'Alice' }).version).toBe(v);
  });
});

describe('encryptProfile / decryptProfile', () => {
  it('round-trips a name, with and without an avatar', () => {
    const key = generateProfileKey();
    const plain = encryptProfile(key, ALICE, { name: 'Alice Ünïcode 🐙' });
    expect(decryptProfile(key, ALICE, plain.ciphertext)).toEqual({ name: 'Alice Ünïcode 🐙' });

    const avatar = bytes(MAX_PROFILE_AVATAR_BYTES);
    const withAvatar = encryptProfile(key, ALICE, { name: 'Alice', avatar });
    const opened = decryptProfile(key, ALICE, withAvatar.ciphertext);
    expect(opened.name).toBe('Alice');
    expect(Buffer.from(opened.avatar!).equals(Buffer.from(avatar))).toBe(true);

    expect(decryptProfile(key, ALICE, encryptProfile(key, ALICE, { name: '' }).ciphertext)).toEqual({ name: '' });
    expect(decryptProfile(key, ALICE, encryptProfile(key, ALICE, { name: 'x', avatar: new Uint8Array(0) }).ciphertext)).toEqual({ name: 'x' });
  });

  it('uses a fresh nonce each time, so equal profiles do not look equal', () => {
    const key = generateProfileKey();
    const a = encryptProfile(key, ALICE, { name: 'Alice' }).ciphertext;
    const b = encryptProfile(key, ALICE, { name: 'Alice' }).ciphertext;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('never carries the name or the avatar in clear', () => {
    const key = generateProfileKey();
    const name = 'Zebediah Quackenbush';
    const avatar = new Uint8Array(Buffer.from('PNG-MAGIC-AVATAR-BYTES '.repeat(200)));
    const { ciphertext } = encryptProfile(key, ALICE, { name, avatar });
    const haystack = Buffer.from(ciphertext);
    for (const needle of [name, 'Zebediah', 'Quackenbush', 'PNG-MAGIC']) {
      expect(haystack.includes(Buffer.from(needle, 'utf8'))).toBe(false);
      expect(haystack.includes(Buffer.from(needle, 'utf16le'))).toBe(false);
      expect(haystack.toString('latin1').toLowerCase()).not.toContain(needle.toLowerCase());
    }
    // Nor in the form it travels in (base64 JSON).
    expect(haystack.toString('base64')).not.toContain(Buffer.from(name).toString('base64').slice(0, 12));
  });

  it('pads to fixed buckets, so sizes tell only the avatar size class', () => {
    const key = generateProfileKey();
    const size = (p: { name: string; avatar?: Uint8Array<ArrayBuffer> }) => encryptProfile(key, ALICE, p).ciphertext.length;
    expect(PROFILE_CIPHERTEXT_BUCKETS).toEqual([1024, 16 * 1024, 64 * 1024, 96 * 1024]);
    expect(size({ name: '' })).toBe(1024);
    expect(size({ name: 'a' })).toBe(1024);
    expect(size({ name: 'x'.repeat(MAX_PROFILE_NAME_BYTES) })).toBe(1024);
    expect(size({ name: 'a', avatar: bytes(1) })).toBe(1024);
    expect(size({ name: 'a', avatar: bytes(900) })).toBe(1024);
    expect(size({ name: 'a', avatar: bytes(2000) })).toBe(16 * 1024);
    expect(size({ name: 'a', avatar: bytes(16 * 1024 - 100) })).toBe(16 * 1024);
    expect(size({ name: 'a', avatar: bytes(16 * 1024) })).toBe(64 * 1024);
    expect(size({ name: 'a', avatar: bytes(60 * 1024) })).toBe(64 * 1024);
    expect(size({ name: 'x'.repeat(MAX_PROFILE_NAME_BYTES), avatar: bytes(MAX_PROFILE_AVATAR_BYTES) })).toBe(MAX_PROFILE_CIPHERTEXT_BYTES);
  });

  it('refuses to encrypt what does not fit, or with a bad key', () => {
    const key = generateProfileKey();
    expect(() => encryptProfile(key, ALICE, { name: 'x'.repeat(MAX_PROFILE_NAME_BYTES + 1) })).toThrow(ProfileInvalidError);
    // Bytes, not characters: 100 octopuses are 400 bytes of UTF-8.
    expect(() => encryptProfile(key, ALICE, { name: '🐙'.repeat(100) })).toThrow(/bytes in UTF-8/);
    expect(() => encryptProfile(key, ALICE, { name: 'a', avatar: bytes(MAX_PROFILE_AVATAR_BYTES + 1) })).toThrow(ProfileInvalidError);
    expect(() => encryptProfile(bytes(16), ALICE, { name: 'a' })).toThrow(ProfileInvalidError);
    expect(() => encryptProfile(bytes(31), ALICE, { name: 'a' })).toThrow(expect.objectContaining({ code: 'PROFILE_INVALID' }));
  });

  it('refuses a wrong key, another account, and any altered byte', () => {
    const key = generateProfileKey();
    const { ciphertext } = encryptProfile(key, ALICE, { name: 'Alice', avatar: bytes(100) });
    expectUnreadable(() => decryptProfile(generateProfileKey(), ALICE, ciphertext));
    expectUnreadable(() => decryptProfile(key, BOB, ciphertext));
    expectUnreadable(() => decryptProfile(bytes(16), ALICE, ciphertext));
    for (const at of [0, 11, 12, 500, ciphertext.length - 1]) {
      const tampered = new Uint8Array(ciphertext);
      tampered[at]! ^= 0x01;
      expectUnreadable(() => decryptProfile(key, ALICE, tampered));
    }
    expectUnreadable(() => decryptProfile(key, ALICE, ciphertext.subarray(0, ciphertext.length - 1)));
    expectUnreadable(() => decryptProfile(key, ALICE, Buffer.concat([ciphertext, Buffer.alloc(1)])));
    expectUnreadable(() => decryptProfile(key, ALICE, new Uint8Array(0)));
    expectUnreadable(() => decryptProfile(key, ALICE, bytes(40)));
    expectUnreadable(() => decryptProfile(key, ALICE, bytes(MAX_PROFILE_CIPHERTEXT_BYTES + 1)));
    // The original still opens: the checks above worked on copies.
    expect(decryptProfile(key, ALICE, ciphertext).name).toBe('Alice');
  });

  it('refuses contents that authenticate but are not a well-formed profile', () => {
    const key = generateProfileKey();
    const good = Buffer.alloc(1024 - 28);
    good.writeUInt8(1, 0);
    good.writeUInt16BE(2, 1);
    good.write('hi', 3);
    good.writeUInt32BE(0, 5);
    const variant = (edit: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      edit(b);
      return sealRaw(key, ALICE, new Uint8Array(b));
    };
    expect(decryptProfile(key, ALICE, variant(() => {}))).toEqual({ name: 'hi' });
    expect(expectUnreadable(() => decryptProfile(key, ALICE, variant((b) => b.writeUInt8(2, 0)))).message).toMatch(/format/);
    expectUnreadable(() => decryptProfile(key, ALICE, variant((b) => b.writeUInt16BE(2000, 1))));
    expectUnreadable(() => decryptProfile(key, ALICE, variant((b) => b.writeUInt32BE(5000, 5))));
    expectUnreadable(() => decryptProfile(key, ALICE, variant((b) => b.writeUInt8(7, 900))));
    expectUnreadable(() => decryptProfile(key, ALICE, variant((b) => b.writeUInt8(0xff, 3))));
  });
});
