import { LinkCodeBody, LinkFetchResponse } from '@kluis/protocol';
import { invalidLinkCode, linkCodeHash } from '../accounts/link-codes.js';
import { defineRoute } from './route.js';
import { addressSource } from './source-address.js';

/** Step 4a (new device): poll for the sealed secrets; only the holder of the one-time key can open them. */
export const linkFetch = defineRoute({
  name: 'linkFetch',
  auth: 'none',
  body: LinkCodeBody,
  response: LinkFetchResponse,
  async handler(ctx, { body, http }) {
    const hash = linkCodeHash(body.code);
    // Unknown codes per source and per node (rules.ts); a live code gives its token back.
    ctx.limits.take('linkCodeGuess', addressSource(http.request.ip).source);
    const code = await ctx.stores.linkCodes.live(ctx.db, hash, ctx.clock());
    if (!code) throw invalidLinkCode();
    ctx.limits.refund('linkCodeGuess', addressSource(http.request.ip).source);
    // Per live code, after the lookup: unknown codes are the per-source bucket's (a fresh
    // bucket per guessed code would bound nothing, and its node-wide share would let one
    // guesser block every real linking on the node).
    ctx.limits.take('linkCodeFetch', hash.toString('base64'));
    return {
      state: code.state,
      ...(code.state === 'provisioned' && code.sealed && { sealed: code.sealed.toString('base64') }),
    };
  },
});
