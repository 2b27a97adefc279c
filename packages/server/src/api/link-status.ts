import { LinkCodeBody, LinkStatusResponse } from '@kluis/protocol';
import { invalidLinkCode, linkCodeHash } from '../accounts/link-codes.js';
import { defineRoute } from './route.js';

/** Step 3a (primary): poll until the new device has requested; shows its key for verification. */
export const linkStatus = defineRoute({
  name: 'linkStatus',
  auth: 'device',
  primaryOnly: true,
  body: LinkCodeBody,
  response: LinkStatusResponse,
  async handler(ctx, { body, auth }) {
    const code = await ctx.stores.linkCodes.live(ctx.db, linkCodeHash(body.code), ctx.clock());
    if (!code || code.accountId !== auth.accountId) throw invalidLinkCode();
    return {
      state: code.state,
      ...(code.publicKey && { publicKey: code.publicKey.toString('base64') }),
      ...(code.deviceId !== null && { deviceId: code.deviceId }),
    };
  },
});
