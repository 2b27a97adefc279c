import type { AppContext } from '../context.js';
import { DAY_MS } from '../subscriptions/periods.js';

/** Accounts per brand per run: a mass lapse is worked off over several runs. */
const BATCH = 500;

/**
 * Deletes the queued envelopes, keys, devices and profile of accounts suspended for longer than
 * their brand's retention (lapsed: paid-until + grace + retention; suspended by an admin:
 * suspended-at + retention). The account row stays, marked purged, so its username is
 * not handed to someone else and the operator's counts stay true.
 */
export async function purgeLongSuspended(ctx: Pick<AppContext, 'db' | 'stores' | 'clock' | 'transaction' | 'delivery' | 'subscriptions'>): Promise<number> {
  const now = ctx.clock();
  let purged = 0;
  for (const brand of await ctx.stores.brands.list(ctx.db)) {
    const lapsedBefore = now - (brand.graceDays + brand.retentionDays) * DAY_MS;
    const suspendedBefore = now - brand.retentionDays * DAY_MS;
    const due = await ctx.stores.subscriptions.dueForPurge(ctx.db, brand.id, lapsedBefore, suspendedBefore, BATCH);
    for (const accountId of due) {
      const deviceIds = await ctx.transaction(async (trx) => {
        const ids = await ctx.stores.devices.deviceIds(trx, accountId);
        await ctx.stores.envelopes.removeForAccount(trx, accountId);
        for (const id of ids) {
          await ctx.stores.prekeys.removeForDevice(trx, accountId, id);
          await ctx.stores.devices.remove(trx, accountId, id);
        }
        await ctx.stores.linkCodes.removeForAccount(trx, accountId);
        await ctx.stores.profiles.remove(trx, accountId);
        await ctx.stores.subscriptions.markPurged(trx, accountId, now);
        // The row keeps the username (so nobody else takes it); the audit log no longer ties it to admin actions.
        const account = await ctx.stores.accounts.byId(trx, accountId);
        if (account) await ctx.stores.auditLog.pseudonymiseAccount(trx, { username: account.username, accountId });
        return ids;
      });
      ctx.subscriptions.forget(accountId);
      // Not awaited: nobody waits on the job's answer, and 500 bus round trips would only slow it.
      void ctx.delivery.accessChanged(accountId);
      for (const id of deviceIds) ctx.delivery.deviceRemoved(accountId, id);
      purged++;
    }
  }
  return purged;
}
