import { ProfileParams, ProfileResponse } from '@kluis/protocol';
import { notFound } from '../errors.js';
import { defineRoute } from './route.js';

/**
 * Any subscriber may fetch any account's profile: it is ciphertext, readable only by
 * those the owner gave the profile key to (inside end-to-end encrypted messages).
 */
export const getProfile = defineRoute({
  name: 'getProfile',
  auth: 'device',
  params: ProfileParams,
  response: ProfileResponse,
  async handler(ctx, { params }) {
    const profile = await ctx.stores.profiles.get(ctx.db, params.accountId);
    if (!profile) throw notFound('this account has no profile');
    return { version: profile.version, ciphertext: profile.ciphertext.toString('base64') };
  },
});
