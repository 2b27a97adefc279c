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

/**
 * Stored envelope times are the server's own and coarse: a millisecond `server_timestamp`
 * or `expires_at` shared by the rows of one commit would tie a sealed envelope to its
 * sender's sync copy (or to the rest of a fan-out). Clients show the server time only as
 * a hint and order by queue position, so an hour is enough.
 */
export const ENVELOPE_TIME_GRANULARITY_MS = 60 * 60 * 1000;

/**
 * The step for a queue with this TTL: an hour, or less for very short TTLs (tests), so an
 * envelope expires at most 1/64 of its TTL early. Short-lived envelopes (call signals) use
 * the same step, rounded up (coarsenUp): a finer grid of their own would set them apart.
 */
export function envelopeTimeStep(envelopeTtlMs: number): number {
  return Math.max(1, Math.min(ENVELOPE_TIME_GRANULARITY_MS, Math.floor(envelopeTtlMs / 64)));
}

/** Rounds down to the step: the stored and pushed `serverTimestamp`, and `expires_at`. */
export function coarsen(ms: number, step: number): number {
  return ms - (ms % step);
}

/**
 * Rounds up to the step: `expires_at` of a short-lived envelope, which must not go before
 * its minimum time in the queue, yet be as coarse as every other stored time.
 */
export function coarsenUp(ms: number, step: number): number {
  const down = coarsen(ms, step);
  return down === ms ? ms : down + step;
}
