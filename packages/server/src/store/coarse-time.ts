import { DAY_MS } from '../subscriptions/periods.js';

/*
 * Stored times that describe a user (when an account, device or profile changed) are
 * kept to the day: a millisecond would let whoever copies the database join rows that
 * were written by one request (an account and the code it redeemed, a profile-key
 * rotation and the block that caused it). The stores round, so no caller can forget.
 */

/** Midnight UTC that starts the day of `ms`. */
export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The last millisecond of the UTC day of `ms`: rounding an end up, so nobody loses paid time. */
export function dayEnd(ms: number): number {
  return dayStart(ms) + DAY_MS - 1;
}
