import { randomUUID } from 'node:crypto';
import { BrandParams, CreateCodesRequest, CreateCodesResponse } from '@kluis/protocol';
import { INVITE_CODE_LENGTH, newCode } from '../auth/secrets.js';
import { badRequest, conflict } from '../errors.js';
import { parseIsoDate } from '../subscriptions/periods.js';
import { audit, loadBrand, loadPlan } from './admin-support.js';
import { defineRoute } from './route.js';

/**
 * Mints a batch. The response is the only place the codes ever appear: the database
 * keeps SHA-256 hashes (125-bit codes, so a leaked table yields nothing usable).
 */
export const createCodes = defineRoute({
  name: 'createCodes',
  auth: 'admin',
  summary: 'Mint a batch of invite or renewal codes (shown once)',
  params: BrandParams,
  body: CreateCodesRequest,
  response: CreateCodesResponse,
  async handler(ctx, { params, body, auth }) {
    const now = ctx.clock();
    let expiresAt: number | null = null;
    if (body.expiresAt !== undefined) {
      const parsed = parseIsoDate(body.expiresAt);
      if (parsed === undefined) throw badRequest(`expiresAt '${body.expiresAt}' is not a real date (use YYYY-MM-DD or an ISO date-time with zone)`);
      if (parsed <= now) throw badRequest('expiresAt must be in the future');
      expiresAt = parsed;
    }
    const codes = Array.from({ length: body.count }, () => ({ id: randomUUID(), ...newCode(INVITE_CODE_LENGTH) }));
    const batchId = randomUUID();
    await ctx.transaction(async (trx) => {
      const brand = await loadBrand(ctx, trx, auth, params.brand);
      if (brand.retiredAt !== null) throw conflict(`brand '${brand.id}' is retired: it gets no new codes`);
      const plan = await loadPlan(ctx, trx, brand, body.planId);
      if (plan.retiredAt !== null) throw conflict(`plan '${plan.name}' is retired: it gets no new codes`);
      await ctx.stores.invites.insert(
        trx,
        codes.map((c) => ({ codeHash: c.hash, brandId: brand.id, createdAt: now, expiresAt, id: c.id, type: body.type, planId: plan.id, batchId })),
      );
      await audit(ctx, trx, auth, 'codes.create', { brand: brand.id, target: batchId, detail: { type: body.type, count: body.count, planId: plan.id, expiresAt } });
    });
    return { batchId, brand: params.brand, planId: body.planId, type: body.type, expiresAt, codes: codes.map((c) => ({ id: c.id, code: c.display })) };
  },
});
