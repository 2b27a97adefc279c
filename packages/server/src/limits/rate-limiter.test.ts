import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import { RateLimiter } from './rate-limiter.js';
import type { LimitRule } from './rules.js';

const ACCOUNT = '6f1c2a9e-3b7d-4c55-9a10-2f8e4d6b7c01';
const OTHER = '0b9d8e7f-1a2b-4c3d-8e9f-a0b1c2d3e4f5';
const rule = (burst: number, perWindow: number, windowMs: number): LimitRule => ({ burst, perWindow, windowMs, what: 'things' });

function limiter(opts: { maxKeys?: number; enabled?: boolean } = {}) {
  let now = 1_000_000;
  const l = new RateLimiter({
    clock: () => now,
    rules: { usernameLookup: rule(3, 3, 60_000), sealedSend: rule(2, 2, 1_000), sealedAccessFailure: rule(1, 1, 60_000) },
    ...opts,
  });
  return { l, advance: (ms: number) => (now += ms), back: (ms: number) => (now -= ms) };
}

function refusal(fn: () => void): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('RateLimiter', () => {
  it('allows the burst, then refuses with RATE_LIMITED, 429 and the seconds until the next token', () => {
    const { l } = limiter();
    for (let i = 0; i < 3; i++) l.take('usernameLookup', ACCOUNT);
    const err = refusal(() => l.take('usernameLookup', ACCOUNT));
    expect(err.code).toBe(ErrorCode.RateLimited);
    expect(err.status).toBe(429);
    // 3 per minute: one token every 20 s.
    expect(err.extra).toEqual({ retryAfterSeconds: 20 });
    expect(err.message).toBe('too many things; try again in 20 s');
    // Another id has its own bucket.
    l.take('usernameLookup', OTHER);
  });

  it('refills at the rule rate, never above the burst', () => {
    const { l, advance } = limiter();
    for (let i = 0; i < 3; i++) l.take('usernameLookup', ACCOUNT);
    advance(19_990);
    expect(l.tryTake('usernameLookup', ACCOUNT)).toBeGreaterThanOrEqual(10);
    advance(20);
    expect(l.tryTake('usernameLookup', ACCOUNT)).toBe(0);
    expect(l.tryTake('usernameLookup', ACCOUNT)).toBeGreaterThan(19_900);
    advance(10 * 60_000);
    for (let i = 0; i < 3; i++) l.take('usernameLookup', ACCOUNT);
    expect(l.tryTake('usernameLookup', ACCOUNT)).toBeGreaterThan(0);
  });

  it('a clock that goes back refills nothing', () => {
    const { l, advance, back } = limiter();
    for (let i = 0; i < 3; i++) l.take('usernameLookup', ACCOUNT);
    back(3_600_000);
    expect(l.tryTake('usernameLookup', ACCOUNT)).toBeGreaterThan(0);
    advance(3_600_000 + 20_010);
    expect(l.tryTake('usernameLookup', ACCOUNT)).toBe(0);
  });

  it('keys are truncated HMACs under a per-process secret: no id, no action name, differs per instance', () => {
    const a = limiter().l;
    const b = limiter().l;
    a.take('sealedSend', ACCOUNT);
    a.take('usernameLookup', ACCOUNT);
    b.take('sealedSend', ACCOUNT);
    const keys = a.storedKeys();
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(k).toMatch(/^[A-Za-z0-9_-]{22}$/); // 16 bytes, base64url
      expect(k).not.toContain(ACCOUNT.slice(0, 8));
      expect(k.toLowerCase()).not.toContain('sealed');
    }
    // The same action and id under another secret: another key (nothing to precompute).
    expect(b.storedKeys()[0]).not.toBe(keys[0]);
    // Different action, same id: different buckets.
    expect(keys[0]).not.toBe(keys[1]);
    a.close();
    b.close();
  });

  it('ids are separated: ("ab","c") is not ("a","bc")', () => {
    const { l } = limiter();
    l.take('keyUpload', 'ab', 'c');
    l.take('keyUpload', 'a', 'bc');
    expect(l.size).toBe(2);
    l.close();
  });

  it('drops a bucket once it has refilled: nothing outlives its refill time plus a sweep', () => {
    const { l, advance } = limiter();
    l.take('sealedSend', ACCOUNT);
    l.take('sealedSend', ACCOUNT);
    l.take('usernameLookup', OTHER);
    expect(l.size).toBe(2);
    advance(999);
    l.sweep();
    expect(l.size).toBe(2); // sealedSend not yet full (2 per second), lookup not either (3 per minute)
    advance(1);
    l.sweep();
    expect(l.size).toBe(1);
    advance(20_000);
    l.sweep();
    expect(l.size).toBe(0);
    // A touched bucket is brought up to date, so a full one behaves as absent.
    l.take('sealedSend', ACCOUNT);
    l.take('sealedSend', ACCOUNT);
    expect(l.tryTake('sealedSend', ACCOUNT)).toBe(500);
  });

  it('holds at most maxKeys buckets, dropping the least recently used', () => {
    const { l } = limiter({ maxKeys: 100 });
    l.take('usernameLookup', 'first');
    l.take('usernameLookup', 'first');
    l.take('usernameLookup', 'first');
    for (let i = 0; i < 99; i++) l.take('usernameLookup', `id-${i}`);
    expect(l.size).toBe(100);
    // 'first' was used least recently; touch it so id-0 is the oldest now.
    expect(l.tryTake('usernameLookup', 'first')).toBeGreaterThan(0);
    l.take('usernameLookup', 'id-new');
    expect(l.size).toBe(100);
    // 'first' survived (still drained); id-0 was evicted (starts full again).
    expect(l.tryTake('usernameLookup', 'first')).toBeGreaterThan(0);
    for (let i = 0; i < 100_000; i++) l.take('usernameLookup', `flood-${i}`);
    expect(l.size).toBe(100);
    l.close();
  });

  it('takeEach: one token from every bucket, or none when one is empty', () => {
    const { l } = limiter();
    l.take('sealedSend', ACCOUNT);
    l.take('sealedSend', ACCOUNT);
    const err = refusal(() => l.takeEach('sealedSend', [OTHER, ACCOUNT]));
    expect(err.code).toBe(ErrorCode.RateLimited);
    // OTHER lost nothing.
    l.takeEach('sealedSend', [OTHER, OTHER]); // duplicates count once
    l.take('sealedSend', OTHER);
    expect(l.tryTake('sealedSend', OTHER)).toBeGreaterThan(0);
  });

  it('chargeEach charges what it can and says 429 if any bucket was empty', () => {
    const { l } = limiter();
    expect(l.chargeEach('sealedAccessFailure', [ACCOUNT])).toBeUndefined();
    const err = l.chargeEach('sealedAccessFailure', [OTHER, ACCOUNT]);
    expect(err?.code).toBe(ErrorCode.RateLimited);
    expect(err?.extra).toEqual({ retryAfterSeconds: 60 });
    // OTHER was charged anyway.
    expect(l.tryTake('sealedAccessFailure', OTHER)).toBeGreaterThan(0);
  });

  it('refund gives a token back, capped at the burst', () => {
    const { l } = limiter();
    l.take('sealedSend', ACCOUNT);
    l.take('sealedSend', ACCOUNT);
    l.refund('sealedSend', ACCOUNT);
    l.take('sealedSend', ACCOUNT);
    expect(l.tryTake('sealedSend', ACCOUNT)).toBeGreaterThan(0);
    l.refund('sealedSend', ACCOUNT);
    l.refund('sealedSend', ACCOUNT);
    l.refund('sealedSend', ACCOUNT);
    l.take('sealedSend', ACCOUNT);
    l.take('sealedSend', ACCOUNT);
    expect(l.tryTake('sealedSend', ACCOUNT)).toBeGreaterThan(0);
  });

  it('disabled: never refuses and stores nothing', () => {
    const { l } = limiter({ enabled: false });
    for (let i = 0; i < 50; i++) l.take('sealedAccessFailure', ACCOUNT);
    l.takeEach('sealedSend', [ACCOUNT, ACCOUNT, OTHER]);
    expect(l.chargeEach('sealedAccessFailure', [ACCOUNT])).toBeUndefined();
    expect(l.size).toBe(0);
  });
});
