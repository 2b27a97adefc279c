import { SetAccessKeyRequest } from '@kluis/protocol';
import { defineRoute } from './route.js';

/** The account's unidentified-access key (derived by the client from its profile key). */
export const setAccessKey = defineRoute({
  name: 'setAccessKey',
  auth: 'device',
  body: SetAccessKeyRequest,
  async handler(ctx, { auth, body }) {
    await ctx.transaction((trx) =>
      trx
        .updateTable('accounts')
        .set({ access_key: Buffer.from(body.accessKey, 'base64'), unrestricted_access: body.unrestricted ? 1 : 0 })
        .where('id', '=', auth.accountId)
        .execute(),
    );
    // Before the answer: once the client hears OK, no node takes the old key any more.
    await ctx.delivery.accessChanged(auth.accountId);
    return {};
  },
});
