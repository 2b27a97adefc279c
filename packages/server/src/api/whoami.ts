import { WhoAmIResponse } from '@kluis/protocol';
import { notFound } from '../errors.js';
import { defineRoute } from './route.js';

export const whoami = defineRoute({
  name: 'whoami',
  auth: 'device',
  response: WhoAmIResponse,
  async handler(ctx, { auth }) {
    const account = await ctx.stores.accounts.byId(ctx.db, auth.accountId);
    if (!account) throw notFound('no such account');
    return {
      accountId: account.id,
      username: account.username,
      deviceId: auth.deviceId,
      identityKey: account.identityKey.toString('base64'),
    };
  },
});
