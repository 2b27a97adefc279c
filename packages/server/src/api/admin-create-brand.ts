import { BrandView, CreateBrandRequest } from '@kluis/protocol';
import { conflict } from '../errors.js';
import { audit, brandView } from './admin-support.js';
import { defineRoute } from './route.js';

export const createBrand = defineRoute({
  name: 'createBrand',
  auth: 'operator',
  summary: 'Create a brand (operator)',
  body: CreateBrandRequest,
  response: BrandView,
  async handler(ctx, { body, auth }) {
    const now = ctx.clock();
    const { slug, ...settings } = body;
    try {
      return await ctx.transaction(async (trx) => {
        if (await ctx.stores.brands.get(trx, slug)) throw conflict(`a brand with slug '${slug}' exists already`);
        await ctx.stores.brands.insert(trx, { ...settings, id: slug, createdAt: now });
        await audit(ctx, trx, auth, 'brand.create', { brand: slug, target: slug, detail: { name: body.name } });
        return brandView((await ctx.stores.brands.get(trx, slug))!);
      });
    } catch (err) {
      // Two creates racing past the check: the primary key decides.
      if (ctx.adapter.isUniqueViolation(err)) throw conflict(`a brand with slug '${slug}' exists already`);
      throw err;
    }
  },
});
