import { Type, type Static } from '@sinclair/typebox';

/**
 * TURN credentials for calls (coturn's `use-auth-secret`, the TURN REST API scheme):
 * username `<expiry seconds>:<random>`, credential base64(HMAC-SHA1(secret, username)).
 * The username names no account, so the relay's logs tie a relayed call to no one.
 */
export const RELAY_CREDENTIAL_TTL_SECONDS = 12 * 3600;
export const MAX_TURN_URLS = 8;

/** GET /v1/calls/relay: the relay to use, or `urls: []` when the operator runs none. */
export const RelayResponse = Type.Object({
  urls: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: MAX_TURN_URLS }),
  username: Type.Optional(Type.String({ maxLength: 128 })),
  credential: Type.Optional(Type.String({ maxLength: 128 })),
  /** ms since the epoch: ask again before this. */
  expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type RelayResponse = Static<typeof RelayResponse>;
