import { randomUUID } from 'node:crypto';
import { BrandParams, CreatePlanRequest, PlanView } from '@kluis/protocol';
import { conflict } from '../errors.js';
import { audit, loadBrand, planView } from './admin-support.js';
import { defineRoute } from './route.js';

export const createPlan = defineRoute({
  name: 'createPlan',
  auth: 'admin',
  summary: 'Create a plan for a brand',
  params: BrandParams,
  body: CreatePlanRequest,
  response: PlanView,
  async handler(ctx, { params, body, auth }) {
    return ctx.transaction(async (trx) => {
      const brand = await loadBrand(ctx, trx, auth, params.brand);
      if (brand.retiredAt !== null) throw conflict(`brand '${brand.id}' is retired: it gets no new plans`);
      const plan = { id: randomUUID(), brandId: brand.id, ...body, createdAt: ctx.clock(), retiredAt: null };
      await ctx.stores.plans.insert(trx, plan);
      await audit(ctx, trx, auth, 'plan.create', { brand: brand.id, target: plan.id, detail: { name: body.name, duration: `${body.durationCount} ${body.durationUnit}` } });
      return planView(plan);
    });
  },
});
