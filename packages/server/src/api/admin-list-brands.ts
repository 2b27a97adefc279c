import { BrandList } from '@kluis/protocol';
import { brandView } from './admin-support.js';
import { defineRoute } from './route.js';

/** Operators see every brand; a brand admin sees its own. */
export const listBrands = defineRoute({
  name: 'listBrands',
  auth: 'admin',
  summary: 'List brands (a brand admin sees only its own)',
  response: BrandList,
  async handler(ctx, { auth }) {
    const brands = await ctx.stores.brands.list(ctx.db);
    return { brands: brands.filter((b) => auth.role === 'operator' || b.id === auth.brandId).map(brandView) };
  },
});
