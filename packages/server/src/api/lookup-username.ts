import { UsernameLookupResponse, UsernameParams } from '@kluis/protocol';
import { checkUsername } from '../accounts/username.js';
import { notFound } from '../errors.js';
import { defineRoute } from './route.js';

/** Authenticated, so only subscribers can ask which usernames exist. */
export const lookupUsername = defineRoute({
  name: 'lookupUsername',
  auth: 'device',
  params: UsernameParams,
  response: UsernameLookupResponse,
  async handler(ctx, { params, auth }) {
    ctx.limits.take('usernameLookup', auth.accountId);
    const username = checkUsername(params.username);
    const account = await ctx.stores.accounts.byUsername(ctx.db, username);
    if (!account) throw notFound(`no account is called "${username}"`);
    return { accountId: account.id, username: account.username };
  },
});
