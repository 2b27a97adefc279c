import { CODE_ALPHABET, deviceAuthorization, formatCode, isWellFormedCode } from '@kluis/protocol';
import { describe, expect, it } from 'vitest';
import { AuthCache } from './auth-cache.js';
import { parseDeviceAuthorization } from './device-auth.js';
import { createPasswordHasher } from './password-hasher.js';
import { hashCode, INVITE_CODE_LENGTH, newCode, newOperatorToken, randomCode, sha256 } from './secrets.js';

const A = '11111111-1111-4111-8111-111111111111';

describe('secrets', () => {
  it('makes codes of the Crockford alphabet with the stated length', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = randomCode(INVITE_CODE_LENGTH);
      expect(c).toHaveLength(25);
      expect([...c].every((ch) => CODE_ALPHABET.includes(ch))).toBe(true);
      seen.add(c);
    }
    expect(seen.size).toBe(200);
    // Every symbol shows up: the 5-bit extraction is not biased to a subset.
    expect(new Set([...seen].join('')).size).toBe(32);
  });

  it('hashes the normalised code, so typing variants match', () => {
    const code = newCode(INVITE_CODE_LENGTH);
    expect(isWellFormedCode(code.display, 25)).toBe(true);
    expect(hashCode(code.display.toLowerCase().replace(/-/g, ' '))).toEqual(code.hash);
    expect(formatCode(code.display.replace(/-/g, ''))).toBe(code.display);
  });

  it('makes 256-bit operator tokens stored as SHA-256', () => {
    const t = newOperatorToken();
    expect(Buffer.from(t.token, 'base64url')).toHaveLength(32);
    expect(t.hash).toEqual(sha256(t.token));
  });
});

describe('parseDeviceAuthorization', () => {
  it('reads accountId.deviceId:password', () => {
    expect(parseDeviceAuthorization(deviceAuthorization(A, 3, 'pass:with:colons'))).toEqual({ accountId: A, deviceId: 3, password: 'pass:with:colons' });
  });

  it('rejects anything else', () => {
    const b = (s: string) => 'Basic ' + Buffer.from(s).toString('base64');
    for (const h of [undefined, '', 'Bearer x', b('nocolon'), b(`${A}:pw`), b(`${A}.0:pw`), b(`${A}.128:pw`), b(`${A}.1:`), b(`ABC.1:pw`), b(`${A}.1x:pw`), 'Basic ' + 'A'.repeat(2000)]) {
      expect(parseDeviceAuthorization(h)).toBeUndefined();
    }
  });
});

describe('AuthCache', () => {
  it('is bounded, least recently used first', () => {
    const cache = new AuthCache(2);
    cache.set('a', { accountId: A, deviceId: 1 });
    cache.set('b', { accountId: A, deviceId: 2 });
    cache.get('a');
    cache.set('c', { accountId: A, deviceId: 3 });
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('evicts per device, and ignores a verify that raced an eviction', () => {
    const cache = new AuthCache(10);
    cache.set('a', { accountId: A, deviceId: 1 });
    cache.set('b', { accountId: A, deviceId: 2 });
    const epoch = cache.currentEpoch();
    cache.evict(A, 2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    cache.set('late', { accountId: A, deviceId: 2 }, epoch);
    expect(cache.get('late')).toBeUndefined();
    cache.evict(A);
    expect(cache.size).toBe(0);
  });
});

describe('password hasher', () => {
  it('hashes with argon2id and verifies', async () => {
    const hasher = createPasswordHasher({ memoryKib: 64, iterations: 1 });
    const h = await hasher.hash('correct horse battery staple');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
    expect(await hasher.verify(h, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(h, 'wrong')).toBe(false);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
  });

  it('verifyNone does a real verify (same cost) and never succeeds', async () => {
    const hasher = createPasswordHasher({ memoryKib: 4096, iterations: 2 });
    const stored = await hasher.hash('x');
    await hasher.verifyNone('warm-up');
    const time = async (fn: () => Promise<boolean>) => {
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) expect(await fn()).toBe(false);
      return performance.now() - t0;
    };
    const wrong = await time(() => hasher.verify(stored, 'y'));
    const none = await time(() => hasher.verifyNone('y'));
    // An argon2 verify at 4 MiB takes milliseconds; skipping it would be ~0.
    expect(none).toBeGreaterThan(wrong * 0.5);
    expect(await hasher.verifyNone('')).toBe(false);
  });
});
