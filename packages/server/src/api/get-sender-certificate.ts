import { SenderCertificateResponse } from '@kluis/protocol';
import { notFound } from '../errors.js';
import { defineRoute } from './route.js';

/** A 7-day sender certificate for the calling device; only accounts allowed to send get one. */
export const getSenderCertificate = defineRoute({
  name: 'getSenderCertificate',
  auth: 'device',
  response: SenderCertificateResponse,
  async handler(ctx, { auth }) {
    const pending = ctx.subscriptions.checkSend(auth.accountId);
    if (pending) await pending;
    const account = await ctx.stores.accounts.byId(ctx.db, auth.accountId);
    if (!account) throw notFound('no such account');
    const keys = await ctx.sealed();
    const { certificate, expiresAt } = keys.issue(auth.accountId, auth.deviceId, account.identityKey, ctx.clock());
    return { certificate: Buffer.from(certificate).toString('base64'), expiresAt };
  },
});
