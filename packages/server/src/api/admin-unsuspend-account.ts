import { AccountParams, AccountView } from '@kluis/protocol';
import { accountView, audit, loadAccount } from './admin-support.js';
import { defineRoute } from './route.js';

/** Lifts an admin suspension; a lapsed subscription still needs a renewal code. */
export const unsuspendAccount = defineRoute({
  name: 'unsuspendAccount',
  auth: 'admin',
  summary: 'Lift an admin suspension',
  params: AccountParams,
  response: AccountView,
  async handler(ctx, { params, auth }) {
    const row = await ctx.transaction(async (trx) => {
      const account = await loadAccount(ctx, trx, auth, params.accountId);
      await ctx.stores.subscriptions.setSuspended(trx, account.accountId, null);
      await audit(ctx, trx, auth, 'account.unsuspend', { brand: account.brandId, target: account.username });
      return loadAccount(ctx, trx, auth, params.accountId);
    });
    ctx.subscriptions.forget(params.accountId);
    return accountView(row, ctx.clock());
  },
});
