/**
 * Stored envelope times are the server's own and coarse: a millisecond `server_timestamp`
 * or `expires_at` shared by the rows of one commit would tie a sealed envelope to its
 * sender's sync copy (or to the rest of a fan-out). Clients show the server time only as
 * a hint and order by queue position, so an hour is enough.
 */
export const ENVELOPE_TIME_GRANULARITY_MS = 60 * 60 * 1000;

/**
 * The step for a queue with this TTL: an hour, or less for very short TTLs (tests, and
 * short-lived envelope kinds), so an envelope expires at most 1/64 of its TTL early.
 */
export function envelopeTimeStep(envelopeTtlMs: number): number {
  return Math.max(1, Math.min(ENVELOPE_TIME_GRANULARITY_MS, Math.floor(envelopeTtlMs / 64)));
}

/** Rounds down to the step: the stored and pushed `serverTimestamp`, and `expires_at`. */
export function coarsen(ms: number, step: number): number {
  return ms - (ms % step);
}
