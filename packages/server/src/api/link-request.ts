import { PublicKey } from '@signalapp/libsignal-client';
import { ErrorCode, LinkRequest, LinkStatusResponse } from '@kluis/protocol';
import { invalidLinkCode, linkCodeHash, wrongLinkState } from '../accounts/link-codes.js';
import { ApiError } from '../errors.js';
import { bytes } from '../keys/device-keys.js';
import { defineRoute } from './route.js';
import { addressSource } from './source-address.js';

/** Step 2 (new device, no account yet): attach the one-time key the secrets will be sealed to. */
export const linkRequest = defineRoute({
  name: 'linkRequest',
  auth: 'none',
  body: LinkRequest,
  response: LinkStatusResponse,
  async handler(ctx, { body, http }) {
    const hash = linkCodeHash(body.code);
    ctx.limits.take('linkCodeGuess', addressSource(http.request.ip).source);
    const publicKey = bytes(body.publicKey);
    try {
      PublicKey.deserialize(publicKey);
    } catch {
      throw new ApiError(ErrorCode.BadRequest, 'publicKey is not a valid serialized EC public key');
    }
    const now = ctx.clock();
    const { linkCodes } = ctx.stores;
    const code = await linkCodes.live(ctx.db, hash, now);
    if (!code) throw invalidLinkCode();
    ctx.limits.refund('linkCodeGuess', addressSource(http.request.ip).source);
    // Per live code, after the lookup: unknown codes are the per-source bucket's (a fresh
    // bucket per guessed code would bound nothing, and its node-wide share would let one
    // guesser block every real linking on the node).
    ctx.limits.take('linkCodeUse', hash.toString('base64'));
    // A code made while paid does not outlive a lapse or a suspension.
    await ctx.subscriptions.assertCanLink(code.accountId);
    if (code.state !== 'waiting') throw wrongLinkState(code.state, 'waiting');
    if (!(await linkCodes.request(ctx.db, hash, publicKey, now))) throw wrongLinkState('taken', 'waiting');
    return { state: 'requested' as const };
  },
});
