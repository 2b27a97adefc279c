import type { AppContext } from '../context.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { purgeLongSuspended } from './retention.js';

export interface ExpiryResult {
  envelopes: number;
  linkCodes: number;
  /** Accounts whose keys and queues were deleted after their brand's retention period. */
  purgedAccounts: number;
  /** Attachment blobs past their TTL (nothing else deletes one), and uploads abandoned for a day (24–48 h: reservation days are whole). */
  blobs: number;
  /** Present when another node was running the job: this run did nothing. */
  skipped?: true;
}

type ExpiryContext = Pick<AppContext, 'db' | 'stores' | 'clock'> & Partial<Pick<AppContext, 'transaction' | 'delivery' | 'subscriptions' | 'adapter' | 'blobs'>>;

/** The advisory-lock name: every node runs the timer, one at a time does the work. */
export const EXPIRY_JOB = 'expiry';

/** Rows per delete, so a big backlog of expired envelopes never holds the database for long. */
const CHUNK = 5000;

/**
 * Deletes undelivered envelopes past their TTL, expired link codes, and long-suspended
 * accounts' keys and queues. In a cluster only one node at a time runs it (the others
 * return `skipped`), so a purge is never processed twice.
 */
export async function runExpiry(ctx: ExpiryContext): Promise<ExpiryResult> {
  if (!ctx.adapter) return expireNow(ctx);
  const result = await ctx.adapter.tryWithJobLock(EXPIRY_JOB, () => expireNow(ctx));
  return result.ran ? result.value : { envelopes: 0, linkCodes: 0, purgedAccounts: 0, blobs: 0, skipped: true };
}

async function expireNow(ctx: ExpiryContext): Promise<ExpiryResult> {
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
  const blobs = ctx.blobs ? await expireBlobs(ctx.blobs, now) : 0;
  return { envelopes, linkCodes, purgedAccounts, blobs };
}

/** Blobs per listing: deleting is a file unlink and a row each, so keep batches modest. */
const BLOB_CHUNK = 500;

async function expireBlobs(blobs: BlobStore, now: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const ids = await blobs.listExpired(now, BLOB_CHUNK);
    for (const id of ids) await blobs.delete(id);
    deleted += ids.length;
    if (ids.length < BLOB_CHUNK) return deleted;
    await new Promise((resolve) => setImmediate(resolve));
  }
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
