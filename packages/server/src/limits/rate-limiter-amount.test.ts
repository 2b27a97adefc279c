import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { RateLimiter } from './rate-limiter.js';

const ACCOUNT = '6f1c2a9e-3b7d-4c55-9a10-2f8e4d6b7c01';
const DAY = 86_400_000;

function limiter(opts: { maxKeys?: number; enabled?: boolean } = {}) {
  let now = 1_000_000;
  const l = new RateLimiter({ clock: () => now, rules: { attachmentBytes: { burst: 1000, perWindow: 1000, windowMs: DAY, what: 'attachment bytes' } }, ...opts });
  return { l, advance: (ms: number) => (now += ms) };
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

describe('RateLimiter amounts (attachment bytes)', () => {
  it('takes an amount all or none, and waits until that amount is back', () => {
    const { l, advance } = limiter();
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
    const { l } = limiter();
    l.takeAmount('attachmentBytes', 5000, ACCOUNT);
    expect(() => l.takeAmount('attachmentBytes', 1, ACCOUNT)).toThrow(ApiError);
    l.refundAmount('attachmentBytes', 5000, ACCOUNT);
    l.takeAmount('attachmentBytes', 1000, ACCOUNT);
  });

  it('keeps limiting when the table is full (sketch) and is a no-op when disabled', () => {
    const { l } = limiter({ maxKeys: 1 });
    l.takeAmount('attachmentBytes', 1000, 'someone-else');
    l.takeAmount('attachmentBytes', 1000, ACCOUNT);
    expect(() => l.takeAmount('attachmentBytes', 1000, ACCOUNT)).toThrow(ApiError);
    const off = limiter({ enabled: false }).l;
    for (let i = 0; i < 5; i++) off.takeAmount('attachmentBytes', 1000, ACCOUNT);
  });
});
