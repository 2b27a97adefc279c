import { AdminParams, AdminView } from '@kluis/protocol';
import { badRequest, notFound } from '../errors.js';
import { audit } from './admin-support.js';
import { defineRoute } from './route.js';

export const revokeAdmin = defineRoute({
  name: 'revokeAdmin',
  auth: 'operator',
  summary: 'Revoke an admin token; it stops working at once (operator)',
  params: AdminParams,
  response: AdminView,
  async handler(ctx, { params, auth }) {
    // Revoking oneself would be a lock-out with no way back but the database.
    if (params.adminId === auth.id) throw badRequest('an admin cannot revoke its own token; use another operator token');
    return ctx.transaction(async (trx) => {
      const admin = await ctx.stores.adminTokens.get(trx, params.adminId);
      if (!admin) throw notFound('there is no such admin');
      await ctx.stores.adminTokens.revoke(trx, admin.id, ctx.clock());
      await audit(ctx, trx, auth, 'admin.revoke', { brand: admin.brandId, target: admin.id, detail: { name: admin.name } });
      const after = (await ctx.stores.adminTokens.get(trx, admin.id))!;
      return { id: after.id, name: after.name, role: after.role, brand: after.brandId, createdAt: after.createdAt, revokedAt: after.revokedAt };
    });
  },
});
