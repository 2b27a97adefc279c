import { ErrorCode, LINK_CODE_TTL_MS, LinkCodeResponse, MAX_DEVICES_PER_ACCOUNT } from '@kluis/protocol';
import { LINK_CODE_LENGTH, newCode } from '../auth/secrets.js';
import { ApiError } from '../errors.js';
import { defineRoute } from './route.js';

/** Step 1 of linking (see protocol/src/devices.ts): the primary makes a 10-minute code. */
export const createLinkCode = defineRoute({
  name: 'createLinkCode',
  auth: 'device',
  primaryOnly: true,
  response: LinkCodeResponse,
  async handler(ctx, { auth }) {
    ctx.limits.take('linkCodeCreate', auth.accountId);
    // A lapsed or suspended account adds no devices (402/403 naming the way out).
    await ctx.subscriptions.assertCanLink(auth.accountId);
    const ids = await ctx.stores.devices.deviceIds(ctx.db, auth.accountId);
    if (ids.length >= MAX_DEVICES_PER_ACCOUNT) {
      throw new ApiError(ErrorCode.TooManyDevices, `an account can have at most ${MAX_DEVICES_PER_ACCOUNT} devices; remove one first`);
    }
    const now = ctx.clock();
    const code = newCode(LINK_CODE_LENGTH);
    const expiresAt = now + LINK_CODE_TTL_MS;
    await ctx.stores.linkCodes.insert(ctx.db, { codeHash: code.hash, accountId: auth.accountId, createdAt: now, expiresAt });
    return { code: code.display, expiresAt };
  },
});
