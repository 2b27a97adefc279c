import { SUBSCRIPTION_WARNING_MS, type SubscriptionInfo } from '@kluis/protocol';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The warning a client shows, or undefined while paid-until is more than 14 days away. */
export function subscriptionWarning(info: SubscriptionInfo, now: number): { paidUntil: number; state: string; daysLeft: number } | undefined {
  if (info.paidUntil === null) return undefined;
  if (info.paidUntil - now > SUBSCRIPTION_WARNING_MS) return undefined;
  // Calendar days (UTC) to the last paid day: the server keeps paid-until to the end of its day.
  const daysLeft = Math.floor(info.paidUntil / DAY_MS) - Math.floor(now / DAY_MS);
  return { paidUntil: info.paidUntil, state: info.state, daysLeft: Math.max(0, daysLeft) };
}
