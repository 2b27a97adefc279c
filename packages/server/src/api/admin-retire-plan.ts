import { PlanParams, PlanView } from '@kluis/protocol';
import { audit, loadBrand, loadPlan, planView } from './admin-support.js';
import { defineRoute } from './route.js';

/** No new codes for it; subscriptions and already-minted codes are untouched. */
export const retirePlan = defineRoute({
  name: 'retirePlan',
  auth: 'admin',
  summary: 'Retire a plan: no new codes',
  params: PlanParams,
  response: PlanView,
  async handler(ctx, { params, auth }) {
    return ctx.transaction(async (trx) => {
      const brand = await loadBrand(ctx, trx, auth, params.brand);
      await loadPlan(ctx, trx, brand, params.planId);
      await ctx.stores.plans.retire(trx, params.planId, ctx.clock());
      await audit(ctx, trx, auth, 'plan.retire', { brand: brand.id, target: params.planId });
      return planView((await ctx.stores.plans.get(trx, params.planId))!);
    });
  },
});
