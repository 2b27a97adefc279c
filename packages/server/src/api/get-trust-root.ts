import { TrustRootResponse } from '@kluis/protocol';
import { defineRoute } from './route.js';

/**
 * The public key clients pin for sealed sender. Fetched once at registration when the
 * user did not bring it from the operator (trust on first use, like a first safety number).
 */
export const getTrustRoot = defineRoute({
  name: 'getTrustRoot',
  auth: 'none',
  response: TrustRootResponse,
  async handler(ctx) {
    const keys = await ctx.sealed();
    return { publicKey: Buffer.from(keys.trustRoot.serialize()).toString('base64') };
  },
});
