import { BrandParams, BrandView } from '@kluis/protocol';
import { brandView, loadBrand } from './admin-support.js';
import { defineRoute } from './route.js';

export const getBrand = defineRoute({
  name: 'getBrand',
  auth: 'admin',
  summary: 'One brand',
  params: BrandParams,
  response: BrandView,
  async handler(ctx, { params, auth }) {
    return brandView(await loadBrand(ctx, ctx.db, auth, params.brand));
  },
});
