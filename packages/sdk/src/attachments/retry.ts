import { KluisError, NetworkError, ServerError } from '../errors.js';

export interface RetryOptions {
  /** Failed tries in a row (without progress) before giving up. */
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  /** Tests replace the wait. */
  sleep?: (ms: number) => Promise<void>;
}

export const retryDefaults = { attempts: 6, baseMs: 250, maxMs: 8000 };

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** Worth another try: the connection broke, or the server said "not now" (5xx, 429). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  if (err instanceof ServerError) return err.status >= 500 || err.status === 429;
  if (err instanceof KluisError) return false;
  const e = err as { code?: unknown; message?: unknown } | null;
  // A response body cut off mid-stream surfaces as a plain Error from node:http.
  return !!e && ((typeof e.code === 'string' && NETWORK_CODES.has(e.code)) || e.message === 'aborted');
}

/** Full jitter: a random wait up to the exponential bound, so many clients do not retry in step. */
export function backoffMs(failures: number, o: RetryOptions = {}): number {
  const base = o.baseMs ?? retryDefaults.baseMs;
  const max = o.maxMs ?? retryDefaults.maxMs;
  return Math.round(Math.random() * Math.min(max, base * 2 ** Math.max(0, failures - 1)));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The server's own wait (429/507 `retryAfterSeconds`), in ms, if it named one. */
function serverWaitMs(err: unknown): number {
  const s = err instanceof ServerError ? (err.body as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds : undefined;
  return typeof s === 'number' && s > 0 ? s * 1000 : 0;
}

/**
 * Runs `fn` until it succeeds, fails for good, or the attempts are used up. A server that
 * says to come back later than our longest backoff (an account's hourly attachment budget,
 * a full disk) is taken at its word at once: more tries now would only be refused again.
 */
export async function retrying<T>(fn: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const attempts = o.attempts ?? retryDefaults.attempts;
  for (let failures = 1; ; failures++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || failures >= attempts || serverWaitMs(err) > (o.maxMs ?? retryDefaults.maxMs)) throw err;
    }
    await (o.sleep ?? sleep)(backoffMs(failures, o));
  }
}
