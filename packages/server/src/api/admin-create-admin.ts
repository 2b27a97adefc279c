import { randomUUID } from 'node:crypto';
import { CreateAdminRequest, CreateAdminResponse } from '@kluis/protocol';
import { newOperatorToken } from '../auth/secrets.js';
import { badRequest, notFound } from '../errors.js';
import { audit } from './admin-support.js';
import { defineRoute } from './route.js';

/** A new admin token, shown once; only its SHA-256 hash is stored. */
export const createAdmin = defineRoute({
  name: 'createAdmin',
  auth: 'operator',
  summary: 'Create an admin token: operator, or brand-admin of one brand (operator)',
  body: CreateAdminRequest,
  response: CreateAdminResponse,
  async handler(ctx, { body, auth }) {
    if (body.role === 'brand-admin' && !body.brand) throw badRequest('a brand-admin needs a brand');
    if (body.role === 'operator' && body.brand) throw badRequest('an operator spans every brand: leave out brand');
    const { token, hash } = newOperatorToken();
    const admin = { id: randomUUID(), name: body.name, role: body.role, brandId: body.brand ?? null, createdAt: ctx.clock(), revokedAt: null };
    await ctx.transaction(async (trx) => {
      if (admin.brandId && !(await ctx.stores.brands.get(trx, admin.brandId))) throw notFound(`there is no brand '${admin.brandId}'`);
      await ctx.stores.adminTokens.insert(trx, { ...admin, tokenHash: hash });
      await audit(ctx, trx, auth, 'admin.create', { brand: admin.brandId, target: admin.id, detail: { name: admin.name, role: admin.role } });
    });
    return { token, admin: { id: admin.id, name: admin.name, role: admin.role, brand: admin.brandId, createdAt: admin.createdAt, revokedAt: null } };
  },
});
