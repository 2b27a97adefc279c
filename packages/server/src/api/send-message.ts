import { DestinationParams, MAX_DEVICES_PER_ACCOUNT, SendRequest, SendResponse } from '@kluis/protocol';
import { MAX_CONTENT_BASE64 } from '../delivery/frames.js';
import { decodeSendRequest } from '../delivery/send.js';
import { defineRoute } from './route.js';

/** Room for one full-size ciphertext per device plus the JSON around them. */
export const SEND_BODY_LIMIT = MAX_DEVICES_PER_ACCOUNT * (MAX_CONTENT_BASE64 + 1024) + 16 * 1024;

/** Same implementation as the socket's 'send' frame: answers after the group commit. */
export const sendMessage = defineRoute({
  name: 'sendMessage',
  auth: 'device',
  params: DestinationParams,
  body: SendRequest,
  response: SendResponse,
  bodyLimit: SEND_BODY_LIMIT,
  async handler(ctx, { params, body, auth }) {
    return ctx.delivery.send(auth, params.accountId, decodeSendRequest(body));
  },
});
