import { AccountParams, AccountView } from '@kluis/protocol';
import { accountView, audit, loadAccount } from './admin-support.js';
import { defineRoute } from './route.js';

/** Refuses the account's sockets at once (open ones close with 4003); renewing does not lift it. */
export const suspendAccount = defineRoute({
  name: 'suspendAccount',
  auth: 'admin',
  summary: 'Suspend an account: its sockets are refused',
  params: AccountParams,
  response: AccountView,
  async handler(ctx, { params, auth }) {
    const now = ctx.clock();
    const row = await ctx.transaction(async (trx) => {
      const account = await loadAccount(ctx, trx, auth, params.accountId);
      if (account.suspendedAt === null) await ctx.stores.subscriptions.setSuspended(trx, account.accountId, now);
      await audit(ctx, trx, auth, 'account.suspend', { brand: account.brandId, target: account.username });
      return loadAccount(ctx, trx, auth, params.accountId);
    });
    ctx.delivery.accountSuspended(params.accountId);
    return accountView(row, now);
  },
});
