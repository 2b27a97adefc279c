import { BrandParams, CodeList, ListCodesQuery } from '@kluis/protocol';
import { codeView, loadBrand, parseLimit } from './admin-support.js';
import { defineRoute } from './route.js';

export const listCodes = defineRoute({
  name: 'listCodes',
  auth: 'admin',
  summary: "A brand's codes with their status (never the codes themselves: only hashes are kept)",
  params: BrandParams,
  query: ListCodesQuery,
  response: CodeList,
  async handler(ctx, { params, query, auth }) {
    await loadBrand(ctx, ctx.db, auth, params.brand);
    const now = ctx.clock();
    const codes = await ctx.stores.invites.list(ctx.db, {
      brandId: params.brand,
      status: query.status,
      type: query.type,
      batchId: query.batchId,
      limit: parseLimit(query.limit),
      now,
    });
    return { codes: codes.map((c) => codeView(c, now)) };
  },
});
