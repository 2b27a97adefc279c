import { LinkCodeBody, LinkFetchResponse } from '@kluis/protocol';
import { invalidLinkCode, linkCodeHash } from '../accounts/link-codes.js';
import { defineRoute } from './route.js';

/** Step 4a (new device): poll for the sealed secrets; only the holder of the one-time key can open them. */
export const linkFetch = defineRoute({
  name: 'linkFetch',
  auth: 'none',
  body: LinkCodeBody,
  response: LinkFetchResponse,
  async handler(ctx, { body, http }) {
    const hash = linkCodeHash(body.code);
    ctx.limits.take('linkCodeFetch', hash.toString('base64'));
    // Unknown codes per source and per node (rules.ts); a live code gives its token back.
    ctx.limits.take('linkCodeGuess', http.request.ip);
    const code = await ctx.stores.linkCodes.live(ctx.db, hash, ctx.clock());
    if (!code) throw invalidLinkCode();
    ctx.limits.refund('linkCodeGuess', http.request.ip);
    return {
      state: code.state,
      ...(code.state === 'provisioned' && code.sealed && { sealed: code.sealed.toString('base64') }),
    };
  },
});
