import { LinkStatusResponse, ProvisionRequest } from '@kluis/protocol';
import { invalidLinkCode, linkCodeHash, wrongLinkState } from '../accounts/link-codes.js';
import { bytes } from '../keys/device-keys.js';
import { defineRoute } from './route.js';

/** Step 3b (primary): store the account secrets, sealed (HPKE) to the new device's key. Opaque here. */
export const provisionLink = defineRoute({
  name: 'provisionLink',
  auth: 'device',
  primaryOnly: true,
  body: ProvisionRequest,
  response: LinkStatusResponse,
  async handler(ctx, { body, auth }) {
    const hash = linkCodeHash(body.code);
    const now = ctx.clock();
    const { linkCodes } = ctx.stores;
    const code = await linkCodes.live(ctx.db, hash, now);
    if (!code || code.accountId !== auth.accountId) throw invalidLinkCode();
    await ctx.subscriptions.assertCanLink(auth.accountId);
    if (code.state !== 'requested') throw wrongLinkState(code.state, 'requested');
    if (!(await linkCodes.provision(ctx.db, hash, auth.accountId, bytes(body.sealed), now))) throw wrongLinkState('changed', 'requested');
    return { state: 'provisioned' as const };
  },
});
