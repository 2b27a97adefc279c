import { BrandParams, BrandView } from '@kluis/protocol';
import { audit, brandView, loadBrand } from './admin-support.js';
import { defineRoute } from './route.js';

/** A retired brand mints no new codes; its accounts and unused codes keep working. */
export const retireBrand = defineRoute({
  name: 'retireBrand',
  auth: 'operator',
  summary: 'Retire a brand: no new codes (operator)',
  params: BrandParams,
  response: BrandView,
  async handler(ctx, { params, auth }) {
    return ctx.transaction(async (trx) => {
      await loadBrand(ctx, trx, auth, params.brand);
      await ctx.stores.brands.retire(trx, params.brand, ctx.clock());
      await audit(ctx, trx, auth, 'brand.retire', { brand: params.brand, target: params.brand });
      return brandView((await ctx.stores.brands.get(trx, params.brand))!);
    });
  },
});
