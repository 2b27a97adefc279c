import { SUBSCRIPTION_WARNING_MS, type SubscriptionInfo } from '@kluis/protocol';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The warning a client shows, or undefined while paid-until is more than 14 days away. */
export function subscriptionWarning(info: SubscriptionInfo, now: number): { paidUntil: number; state: string; daysLeft: number } | undefined {
  if (info.paidUntil === null) return undefined;
  if (info.paidUntil - now > SUBSCRIPTION_WARNING_MS) return undefined;
  return { paidUntil: info.paidUntil, state: info.state, daysLeft: Math.max(0, Math.ceil((info.paidUntil - now) / DAY_MS)) };
}
