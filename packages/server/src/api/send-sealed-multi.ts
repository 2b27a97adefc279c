import { MultiSendResponse, SealedMultiRequest, UNIDENTIFIED_ACCESS_HEADER } from '@kluis/protocol';
import type { AppContext } from '../context.js';
import { parseAccessKeyHeader } from '../sealed/access.js';
import { prepareSealedMulti } from '../sealed/sealed-send.js';
import { sealedRefusal } from './send-sealed.js';
import { defineRoute } from './route.js';

/**
 * One sealed upload for a whole group: split per recipient here, stored in one commit.
 * Rate limits as for a single sealed send, for every destination account (all or none).
 */
export const sendSealedMulti = defineRoute({
  name: 'sendSealedMulti',
  auth: 'none',
  body: SealedMultiRequest,
  response: MultiSendResponse,
  bodyLimit: 6 * 1024 * 1024,
  async handler(ctx, { body, http }) {
    const message = Buffer.from(body.message, 'base64');
    return deliverSealedMulti(ctx, parseAccessKeyHeader(http.request.headers[UNIDENTIFIED_ACCESS_HEADER]), {
      message,
      online: body.online === true,
      shortLived: body.shortLived === true,
    });
  },
});

/** A sealed multi-recipient send, from this route or the sealed socket. */
export async function deliverSealedMulti(
  ctx: AppContext,
  accessKey: Buffer | undefined,
  request: { message: Buffer; online: boolean; shortLived: boolean },
): Promise<MultiSendResponse> {
  const command = await prepareSealedMulti(ctx.accessKeys, accessKey, request, {
    admit: (accountIds) => ctx.limits.takeEach('sealedSend', accountIds),
    refused: (accountIds, err) => sealedRefusal(ctx, accountIds, err),
  });
  return ctx.delivery.sendSealedMulti(command);
}
