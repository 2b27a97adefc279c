import { DestinationParams, ErrorCode, SendRequest, SendResponse, UNIDENTIFIED_ACCESS_HEADER } from '@kluis/protocol';
import type { AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { parseAccessKeyHeader } from '../sealed/access.js';
import { authorizeSealed } from '../sealed/sealed-send.js';
import { decodeSendRequest, type DecodedSendRequest } from '../delivery/send.js';
import { SEND_BODY_LIMIT } from './send-message.js';
import { defineRoute } from './route.js';

/**
 * A send without a device credential: the recipient's unidentified-access key authorises
 * it, the ciphertexts are sealed-sender messages, and nothing stored names the sender.
 * Rate limits are keyed by the destination only (limits/rules.ts): every attempt takes
 * from its sealed-send bucket before the key is checked.
 */
export const sendSealed = defineRoute({
  name: 'sendSealed',
  auth: 'none',
  params: DestinationParams,
  body: SendRequest,
  response: SendResponse,
  bodyLimit: SEND_BODY_LIMIT,
  async handler(ctx, { params, body, http }) {
    return deliverSealed(ctx, params.accountId, parseAccessKeyHeader(http.request.headers[UNIDENTIFIED_ACCESS_HEADER]), decodeSendRequest(body));
  },
});

/** A sealed 1:1 send, from this route or the sealed socket: limits, key check, delivery. */
export async function deliverSealed(ctx: AppContext, destination: string, accessKey: Buffer | undefined, request: DecodedSendRequest): Promise<SendResponse> {
  ctx.limits.take('sealedSend', destination);
  try {
    await authorizeSealed(ctx.accessKeys, destination, accessKey, request);
  } catch (err) {
    throw sealedRefusal(ctx, [destination], err);
  }
  return ctx.delivery.sendSealed(destination, request);
}

/**
 * A refused access key (or an unknown account: they answer alike, so no existence oracle)
 * charges each destination's failure bucket; once one is empty the answer is 429, not 401.
 * The key is always checked first: a correct key is never refused by this bucket, or
 * anyone knowing an account id could block sealed delivery to it with 30 requests a minute.
 */
export function sealedRefusal(ctx: AppContext, destinations: readonly string[], err: unknown): unknown {
  if (!(err instanceof ApiError) || err.code !== ErrorCode.Unauthorized) return err;
  return ctx.limits.chargeEach('sealedAccessFailure', destinations) ?? err;
}
