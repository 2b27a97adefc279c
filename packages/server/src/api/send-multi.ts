import { MultiSendRequest, MultiSendResponse } from '@kluis/protocol';
import { decodeMultiSendRequest } from '../delivery/multi-send.js';
import { defineRoute } from './route.js';

/**
 * One limit for both kinds of body. A shared send is one ciphertext (≤ 128 KiB of
 * base64) plus at most 1000 × 6 device entries of ~50 bytes: under 1 MiB. Per-device
 * ciphertexts could reach 1000 × 6 × 96 KiB (~750 MiB), which no request should hold in
 * memory or in one transaction; that fan-out is meant for small messages (group
 * control, sender-key distribution, sync copies: ~1–2 KiB each), so 16 MiB fits a full
 * group of 6-device accounts at ~2 KiB each. Anything bigger belongs in an attachment or
 * a shared ciphertext. Over the socket the frame limit (MAX_SOCKET_FRAME_BYTES) applies;
 * the SDK sends larger requests over HTTP.
 */
export const MULTI_SEND_BODY_LIMIT = 16 * 1024 * 1024;

/** Same implementation as the socket's 'send-multi' frame: answers after the one group commit. */
export const sendMulti = defineRoute({
  name: 'sendMulti',
  auth: 'device',
  body: MultiSendRequest,
  response: MultiSendResponse,
  bodyLimit: MULTI_SEND_BODY_LIMIT,
  summary: 'Send to many accounts in one durable commit (shared or per-device ciphertexts; online-only if asked)',
  async handler(ctx, { body, auth }) {
    return ctx.delivery.sendMulti(auth, decodeMultiSendRequest(body));
  },
});
