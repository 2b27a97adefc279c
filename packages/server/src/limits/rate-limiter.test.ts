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

  it('a flood of 110,000 other keys cannot reset a drained bucket; memory stays bounded', () => {
    const { l, advance } = limiter({ maxKeys: 100_000 });
    for (let i = 0; i < 3; i++) l.take('usernameLookup', 'victim');
    expect(l.tryTake('usernameLookup', 'victim')).toBeGreaterThan(0);
    // Another kind's bucket (per-node invite failures) drained too.
    for (let i = 0; i < 100; i++) l.take('inviteFailure');
    expect(l.tryTake('inviteFailure')).toBeGreaterThan(0);
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 110_000; i++) {
      l.tryTake('usernameLookup', `flood-${i}`);
      l.tryTake('linkCodeUse', `flood-${i}`);
    }
    // Before: one 100k LRU for every kind, so both drained buckets were evicted and fresh again.
    expect(l.tryTake('usernameLookup', 'victim')).toBeGreaterThan(0);
    expect(l.tryTake('inviteFailure')).toBeGreaterThan(0);
    // At most maxKeys exact buckets per kind (+ the per-node invite bucket), whatever the flood.
    expect(l.size).toBeLessThanOrEqual(2 * 100_000 + 1);
    expect(l.stats().usernameLookup?.overflowed).toBeGreaterThan(0);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(96 * 1024 * 1024);
    // Once refilled, buckets go and the victim's is just as fresh as anyone's.
    advance(60_000);
    l.sweep();
    expect(l.size).toBe(0);
    expect(l.tryTake('usernameLookup', 'victim')).toBe(0);
    l.close();
  }, 60_000);

  it('a full table evicts only refilled buckets; new keys then share the overflow sketch, which never lets a drained key escape', () => {
    const { l, advance } = limiter({ maxKeys: 100 });
    for (let i = 0; i < 3; i++) l.take('usernameLookup', 'first');
    for (let i = 0; i < 99; i++) l.take('usernameLookup', `id-${i}`);
    expect(l.size).toBe(100);
    // Every bucket is still refilling: a new key goes to the sketch, nobody is evicted.
    l.take('usernameLookup', 'id-new');
    expect(l.size).toBe(100);
    expect(l.tryTake('usernameLookup', 'first')).toBeGreaterThan(0);
    // A key limited in the sketch stays limited there, and when it gets a bucket of its own.
    for (let i = 0; i < 2; i++) l.take('usernameLookup', 'id-new');
    expect(l.tryTake('usernameLookup', 'id-new')).toBeGreaterThan(0);
    // 20 s: one token back for the ids that took one (3 per minute); 'first' has one of three.
    advance(20_000);
    for (let i = 0; i < 10; i++) l.take('usernameLookup', `late-${i}`);
    // id-* buckets refilled (one token used, one refilled): they made room; 'first' stayed.
    expect(l.size).toBeLessThanOrEqual(100);
    l.take('usernameLookup', 'first');
    expect(l.tryTake('usernameLookup', 'first')).toBeGreaterThan(0);
    l.take('usernameLookup', 'id-new');
    expect(l.tryTake('usernameLookup', 'id-new')).toBeGreaterThan(0);
    l.close();
  });

  it('a kind-wide bucket bounds a flood spread over many keys, and refuses with its own reason', () => {
    let now = 0;
    const l = new RateLimiter({
      clock: () => now,
      rules: { linkCodeUse: { ...rule(10, 10, 60_000), global: { burst: 5, perWindow: 5, windowMs: 1_000, what: 'link code attempts on this server' } } },
    });
    for (let i = 0; i < 5; i++) l.take('linkCodeUse', `code-${i}`);
    const err = refusal(() => l.take('linkCodeUse', 'code-new'));
    expect(err.message).toBe('too many link code attempts on this server; try again in 1 s');
    // Refused by the kind-wide bucket: the key's own bucket was not charged.
    now += 1_000;
    for (let i = 0; i < 5; i++) l.take('linkCodeUse', 'code-new');
    expect(l.tryTake('linkCodeUse', 'code-new')).toBeGreaterThan(0);
    // takeEach needs one kind-wide token per id.
    now += 1_000;
    expect(() => l.takeEach('linkCodeUse', ['a', 'b', 'c', 'd', 'e', 'f'])).toThrow(ApiError);
    l.takeEach('linkCodeUse', ['a', 'b', 'c', 'd', 'e']);
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

const DAY = 86_400_000;

function amountLimiter(opts: { maxKeys?: number; enabled?: boolean } = {}) {
  let now = 1_000_000;
  const l = new RateLimiter({ clock: () => now, rules: { attachmentBytes: { burst: 1000, perWindow: 1000, windowMs: DAY, what: 'attachment bytes' } }, ...opts });
  return { l, advance: (ms: number) => (now += ms) };
}

describe('RateLimiter amounts (attachment bytes)', () => {
  it('takes an amount all or none, and waits until that amount is back', () => {
    const { l, advance } = amountLimiter();
    l.takeAmount('attachmentBytes', 600, ACCOUNT);
    const e = refusal(() => l.takeAmount('attachmentBytes', 600, ACCOUNT));
    expect(e.status).toBe(429);
    // 200 missing of 1000 a day: a fifth of a day.
    expect(e.extra?.retryAfterSeconds).toBe(DAY / 5 / 1000);
    // Nothing was taken by the refusal: 400 are still there.
    l.takeAmount('attachmentBytes', 400, ACCOUNT);
    expect(() => l.takeAmount('attachmentBytes', 1, ACCOUNT)).toThrow(ApiError);
    advance(DAY);
    l.takeAmount('attachmentBytes', 1000, ACCOUNT);
  });

  it('charges an amount above the burst as the burst, and gives back what a later refusal refunds', () => {
    const { l } = amountLimiter();
    l.takeAmount('attachmentBytes', 5000, ACCOUNT);
    expect(() => l.takeAmount('attachmentBytes', 1, ACCOUNT)).toThrow(ApiError);
    l.refundAmount('attachmentBytes', 5000, ACCOUNT);
    l.takeAmount('attachmentBytes', 1000, ACCOUNT);
  });

  it('keeps limiting when the table is full (sketch) and is a no-op when disabled', () => {
    const { l } = amountLimiter({ maxKeys: 1 });
    l.takeAmount('attachmentBytes', 1000, 'someone-else');
    l.takeAmount('attachmentBytes', 1000, ACCOUNT);
    expect(() => l.takeAmount('attachmentBytes', 1000, ACCOUNT)).toThrow(ApiError);
    const off = amountLimiter({ enabled: false }).l;
    for (let i = 0; i < 5; i++) off.takeAmount('attachmentBytes', 1000, ACCOUNT);
  });
});
