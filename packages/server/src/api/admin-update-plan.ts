import { PlanParams, PlanView, UpdatePlanRequest } from '@kluis/protocol';
import { audit, loadBrand, loadPlan, planView } from './admin-support.js';
import { defineRoute } from './route.js';

/** Name and display price only: a plan's duration is what sold codes promise, so it never changes. */
export const updatePlan = defineRoute({
  name: 'updatePlan',
  auth: 'admin',
  summary: "Change a plan's name or display price",
  params: PlanParams,
  body: UpdatePlanRequest,
  response: PlanView,
  async handler(ctx, { params, body, auth }) {
    return ctx.transaction(async (trx) => {
      const brand = await loadBrand(ctx, trx, auth, params.brand);
      await loadPlan(ctx, trx, brand, params.planId);
      await ctx.stores.plans.update(trx, params.planId, body);
      await audit(ctx, trx, auth, 'plan.update', { brand: brand.id, target: params.planId, detail: { fields: Object.keys(body) } });
      return planView((await ctx.stores.plans.get(trx, params.planId))!);
    });
  },
});
