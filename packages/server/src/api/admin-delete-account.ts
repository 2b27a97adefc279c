import { AccountParams } from '@kluis/protocol';
import { Type } from '@sinclair/typebox';
import { audit, loadAccount } from './admin-support.js';
import { defineRoute } from './route.js';

/** Deletes the account, its devices, keys, profile and queued envelopes; the username becomes free again. */
export const deleteAccount = defineRoute({
  name: 'deleteAccount',
  auth: 'admin',
  summary: 'Delete an account with its devices, keys and queued messages',
  params: AccountParams,
  response: Type.Object({}),
  async handler(ctx, { params, auth }) {
    const deviceIds = await ctx.transaction(async (trx) => {
      const account = await loadAccount(ctx, trx, auth, params.accountId);
      const ids = await ctx.stores.devices.deviceIds(trx, account.accountId);
      await ctx.stores.envelopes.removeForAccount(trx, account.accountId);
      for (const id of ids) {
        await ctx.stores.prekeys.removeForDevice(trx, account.accountId, id);
        await ctx.stores.devices.remove(trx, account.accountId, id);
      }
      await ctx.stores.linkCodes.removeForAccount(trx, account.accountId);
      await ctx.stores.profiles.remove(trx, account.accountId);
      await ctx.stores.subscriptions.delete(trx, account.accountId);
      await audit(ctx, trx, auth, 'account.delete', { brand: account.brandId, target: account.username });
      // This entry included: the log keeps that an account was deleted, not whose it was.
      await ctx.stores.auditLog.pseudonymiseAccount(trx, account);
      return ids;
    });
    ctx.subscriptions.forget(params.accountId);
    await ctx.delivery.accessChanged(params.accountId);
    for (const id of deviceIds) ctx.delivery.deviceRemoved(params.accountId, id);
    return {};
  },
});
