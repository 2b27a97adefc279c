import { DestinationParams, SendRequest, SendResponse, UNIDENTIFIED_ACCESS_HEADER } from '@kluis/protocol';
import { parseAccessKeyHeader } from '../sealed/access.js';
import { authorizeSealed } from '../sealed/sealed-send.js';
import { SEND_BODY_LIMIT } from './send-message.js';
import { defineRoute } from './route.js';

/**
 * A send without a device credential: the recipient's unidentified-access key authorises
 * it, the ciphertexts are sealed-sender messages, and nothing stored names the sender.
 */
export const sendSealed = defineRoute({
  name: 'sendSealed',
  auth: 'none',
  params: DestinationParams,
  body: SendRequest,
  response: SendResponse,
  bodyLimit: SEND_BODY_LIMIT,
  async handler(ctx, { params, body, http }) {
    await authorizeSealed(ctx.db, params.accountId, parseAccessKeyHeader(http.request.headers[UNIDENTIFIED_ACCESS_HEADER]), body);
    return ctx.delivery.sendSealed(params.accountId, body);
  },
});
