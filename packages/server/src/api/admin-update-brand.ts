import { BrandParams, BrandView, UpdateBrandRequest } from '@kluis/protocol';
import { audit, brandView, loadBrand } from './admin-support.js';
import { defineRoute } from './route.js';

/** Rename and settings (colours, logo, language, member invites, grace, retention): operator only. */
export const updateBrand = defineRoute({
  name: 'updateBrand',
  auth: 'operator',
  summary: 'Rename a brand or change its settings (operator)',
  params: BrandParams,
  body: UpdateBrandRequest,
  response: BrandView,
  async handler(ctx, { params, body, auth }) {
    return ctx.transaction(async (trx) => {
      await loadBrand(ctx, trx, auth, params.brand);
      await ctx.stores.brands.update(trx, params.brand, body);
      await audit(ctx, trx, auth, 'brand.update', { brand: params.brand, target: params.brand, detail: { fields: Object.keys(body) } });
      return brandView((await ctx.stores.brands.get(trx, params.brand))!);
    });
  },
});
