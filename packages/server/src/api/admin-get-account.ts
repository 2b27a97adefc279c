import { AccountParams, AccountView } from '@kluis/protocol';
import { accountView, loadAccount } from './admin-support.js';
import { defineRoute } from './route.js';

export const getAccount = defineRoute({
  name: 'getAccount',
  auth: 'admin',
  summary: 'One account',
  params: AccountParams,
  response: AccountView,
  async handler(ctx, { params, auth }) {
    return accountView(await loadAccount(ctx, ctx.db, auth, params.accountId), ctx.clock());
  },
});
