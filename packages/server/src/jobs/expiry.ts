import type { AppContext } from '../context.js';

export interface ExpiryResult {
  envelopes: number;
  linkCodes: number;
}

/** Rows per delete, so a big backlog of expired envelopes never holds the database for long. */
const CHUNK = 5000;

/** Deletes undelivered envelopes past their TTL and expired link codes. */
export async function runExpiry(ctx: Pick<AppContext, 'db' | 'stores' | 'clock'>): Promise<ExpiryResult> {
  const now = ctx.clock();
  let envelopes = 0;
  for (;;) {
    const n = await ctx.stores.envelopes.removeExpired(ctx.db, now, CHUNK);
    envelopes += n;
    if (n < CHUNK) break;
    // Let queued sends and acks in between the chunks.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const linkCodes = await ctx.stores.linkCodes.removeExpired(ctx.db, now);
  return { envelopes, linkCodes };
}

export interface ExpiryJob {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export function startExpiryJob(ctx: Pick<AppContext, 'db' | 'stores' | 'clock' | 'log'>, intervalMs: number): ExpiryJob {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = runExpiry(ctx)
      .then(
        () => undefined,
        (err: unknown) => ctx.log.error('expiry job failed', err),
      )
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  // Never the reason a process stays alive.
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
