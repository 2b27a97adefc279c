import { createHmac, randomBytes } from 'node:crypto';
import { RELAY_CREDENTIAL_TTL_SECONDS, RelayResponse } from '@kluis/protocol';
import { defineRoute } from './route.js';

/**
 * Short-lived TURN credentials (coturn's use-auth-secret, the TURN REST API scheme). The
 * username is an expiry and random bytes, never the account: the relay's logs tie a
 * relayed call to nobody, and the server stores nothing about the request.
 */
export const getCallRelay = defineRoute({
  name: 'callRelay',
  auth: 'device',
  response: RelayResponse,
  async handler(ctx) {
    const { turnUrls, turnSecret } = ctx.config;
    if (turnUrls.length === 0 || !turnSecret) return { urls: [] };
    const expiry = Math.floor(Date.now() / 1000) + RELAY_CREDENTIAL_TTL_SECONDS;
    const username = `${expiry}:${randomBytes(8).toString('hex')}`;
    const credential = createHmac('sha1', turnSecret).update(username).digest('base64');
    return { urls: turnUrls, username, credential, expiresAt: expiry * 1000 };
  },
});
