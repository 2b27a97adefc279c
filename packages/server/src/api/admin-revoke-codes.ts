import { BrandParams, isWellFormedCode, RevokeCodesRequest, RevokeCodesResponse } from '@kluis/protocol';
import { hashCode, INVITE_CODE_LENGTH } from '../auth/secrets.js';
import { badRequest } from '../errors.js';
import { audit, loadBrand } from './admin-support.js';
import { defineRoute } from './route.js';

/** Revokes unused codes by id, by batch or by the code itself; used codes stay used. */
export const revokeCodes = defineRoute({
  name: 'revokeCodes',
  auth: 'admin',
  summary: 'Revoke unused codes (by id, batch or code)',
  params: BrandParams,
  body: RevokeCodesRequest,
  response: RevokeCodesResponse,
  async handler(ctx, { params, body, auth }) {
    for (const code of body.codes ?? []) {
      if (!isWellFormedCode(code, INVITE_CODE_LENGTH)) throw badRequest(`'${code}' is not a well-formed code`);
    }
    return ctx.transaction(async (trx) => {
      await loadBrand(ctx, trx, auth, params.brand);
      const revoked = await ctx.stores.invites.revoke(
        trx,
        params.brand,
        { ids: body.ids, batchId: body.batchId, hashes: body.codes?.map(hashCode) },
        ctx.clock(),
      );
      await audit(ctx, trx, auth, 'codes.revoke', {
        brand: params.brand,
        target: body.batchId ?? null,
        detail: { revoked, ids: body.ids?.length ?? 0, codes: body.codes?.length ?? 0 },
      });
      return { revoked };
    });
  },
});
