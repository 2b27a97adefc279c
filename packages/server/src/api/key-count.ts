import { PreKeyCountResponse } from '@kluis/protocol';
import { defineRoute } from './route.js';

export const keyCount = defineRoute({
  name: 'keyCount',
  auth: 'device',
  response: PreKeyCountResponse,
  async handler(ctx, { auth }) {
    return ctx.stores.prekeys.counts(ctx.db, auth.accountId, auth.deviceId);
  },
});
