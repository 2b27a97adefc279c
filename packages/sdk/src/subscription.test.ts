import { describe, expect, it } from 'vitest';
import { subscriptionWarning } from './subscription.js';

const DAY = 86_400_000;
const info = (paidUntil: number | null) => ({ state: 'active', paidUntil, graceEndsAt: null, brand: { slug: 'b', name: 'b' } }) as never;

describe('subscriptionWarning', () => {
  it('counts calendar days to a paid-until kept at the end of its UTC day', () => {
    const now = Date.UTC(2026, 0, 10, 15);
    // A 7-day plan bought now: the server stores the last millisecond of day +7.
    expect(subscriptionWarning(info(Date.UTC(2026, 0, 18) - 1), now)?.daysLeft).toBe(7);
    expect(subscriptionWarning(info(Date.UTC(2026, 0, 11) - 1), now)?.daysLeft).toBe(0);
    expect(subscriptionWarning(info(now + 7 * DAY), now)?.daysLeft).toBe(7);
    expect(subscriptionWarning(info(now + 30 * DAY), now)).toBeUndefined();
    expect(subscriptionWarning(info(null), now)).toBeUndefined();
  });
});
