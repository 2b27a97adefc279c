import type { AppContext } from '../context.js';
import { purgeLongSuspended } from './retention.js';

export interface ExpiryResult {
  envelopes: number;
  linkCodes: number;
  /** Accounts whose keys and queues were deleted after their brand's retention period. */
  purgedAccounts: number;
}

type ExpiryContext = Pick<AppContext, 'db' | 'stores' | 'clock'> & Partial<Pick<AppContext, 'transaction' | 'delivery' | 'subscriptions'>>;

/** Rows per delete, so a big backlog of expired envelopes never holds the database for long. */
const CHUNK = 5000;

/** Deletes undelivered envelopes past their TTL, expired link codes, and long-suspended accounts' keys and queues. */
export async function runExpiry(ctx: ExpiryContext): Promise<ExpiryResult> {
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
  const { transaction, delivery, subscriptions } = ctx;
  const purgedAccounts = transaction && delivery && subscriptions ? await purgeLongSuspended({ ...ctx, transaction, delivery, subscriptions }) : 0;
  return { envelopes, linkCodes, purgedAccounts };
}

export interface ExpiryJob {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export function startExpiryJob(ctx: ExpiryContext & Pick<AppContext, 'log'>, intervalMs: number): ExpiryJob {
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
