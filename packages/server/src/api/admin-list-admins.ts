import { AdminList } from '@kluis/protocol';
import { defineRoute } from './route.js';

export const listAdmins = defineRoute({
  name: 'listAdmins',
  auth: 'operator',
  summary: 'Admin tokens (names and roles; never the tokens) (operator)',
  response: AdminList,
  async handler(ctx) {
    const admins = await ctx.stores.adminTokens.list(ctx.db);
    return { admins: admins.map((a) => ({ id: a.id, name: a.name, role: a.role, brand: a.brandId, createdAt: a.createdAt, revokedAt: a.revokedAt })) };
  },
});
