import { SetProfileRequest } from '@kluis/protocol';
import { Type } from '@sinclair/typebox';
import { badRequest } from '../errors.js';
import { bytes } from '../keys/device-keys.js';
import { defineRoute } from './route.js';

/**
 * Replaces the caller's encrypted profile. Any device of the account may write it: they
 * share the profile key. The server checks only the envelope (size, encoding, version
 * shape); what is inside is the clients' business.
 */
export const setProfile = defineRoute({
  name: 'setProfile',
  auth: 'device',
  body: SetProfileRequest,
  response: Type.Object({}),
  async handler(ctx, { body, auth }) {
    const ciphertext = bytes(body.ciphertext);
    if (ciphertext.length === 0) throw badRequest('ciphertext is empty');
    // The schema checks the alphabet only; misplaced padding would decode to other bytes.
    if (ciphertext.toString('base64') !== body.ciphertext) throw badRequest('ciphertext is not canonical standard base64');
    await ctx.transaction((trx) =>
      ctx.stores.profiles.put(trx, { accountId: auth.accountId, version: body.version, ciphertext, updatedAt: ctx.clock() }),
    );
    return {};
  },
});
