import { randomUUID } from 'node:crypto';
import { CreateInvitesRequest, CreateInvitesResponse, ErrorCode } from '@kluis/protocol';
import { INVITE_CODE_LENGTH, newCode } from '../auth/secrets.js';
import { ApiError } from '../errors.js';
import { audit } from './admin-support.js';
import { defineRoute } from './route.js';

/**
 * POST /admin/invites (operator token). Codes are shown once; only their hashes are kept.
 * Codes are the payment instrument: every batch is in the audit log, as with /codes.
 */
export const createInvites = defineRoute({
  name: 'createInvites',
  summary: "Mint invite codes for the default brand's oldest plan on sale (shown once) (operator)",
  auth: 'operator',
  body: CreateInvitesRequest,
  bodyOptional: true,
  response: CreateInvitesResponse,
  async handler(ctx, { body, auth }) {
    const count = body.count ?? 1;
    const now = ctx.clock();
    const expiresAt = body.expiresAt ?? null;
    if (expiresAt !== null && expiresAt <= now) throw new ApiError(ErrorCode.BadRequest, 'expiresAt must be in the future');
    const brand = await ctx.stores.brands.defaultBrand(ctx.db);
    if (!brand) throw new ApiError(ErrorCode.Internal, 'no brand is configured');
    // The legacy route predates plans: it mints for the default brand's oldest plan on sale.
    const plan = await ctx.stores.plans.firstActive(ctx.db, brand.id);
    if (!plan) throw new ApiError(ErrorCode.BadRequest, `brand '${brand.id}' has no plan on sale; create one first`);
    const batchId = randomUUID();
    const codes = Array.from({ length: count }, () => newCode(INVITE_CODE_LENGTH));
    await ctx.transaction(async (trx) => {
      await ctx.stores.invites.insert(
        trx,
        codes.map((c) => ({ codeHash: c.hash, brandId: brand.id, createdAt: now, expiresAt, id: randomUUID(), planId: plan.id, batchId })),
      );
      await audit(ctx, trx, auth, 'codes.create', { brand: brand.id, target: batchId, detail: { type: 'invite', count, planId: plan.id, expiresAt } });
    });
    return { codes: codes.map((c) => c.display) };
  },
});
