import { BrandParams, PlanList } from '@kluis/protocol';
import { loadBrand, planView } from './admin-support.js';
import { defineRoute } from './route.js';

export const listPlans = defineRoute({
  name: 'listPlans',
  auth: 'admin',
  summary: "A brand's plans, retired ones included",
  params: BrandParams,
  response: PlanList,
  async handler(ctx, { params, auth }) {
    await loadBrand(ctx, ctx.db, auth, params.brand);
    return { plans: (await ctx.stores.plans.list(ctx.db, params.brand)).map(planView) };
  },
});
