import { AuditList, ListAuditQuery } from '@kluis/protocol';
import { requireBrand } from '../auth/admin-auth.js';
import { parseLimit } from './admin-support.js';
import { defineRoute } from './route.js';

/** Newest first. A brand admin sees its brand's entries only. */
export const listAudit = defineRoute({
  name: 'listAudit',
  auth: 'admin',
  summary: 'The audit log, newest first (a brand admin sees its brand only)',
  query: ListAuditQuery,
  response: AuditList,
  async handler(ctx, { query, auth }) {
    const brandId = query.brand ?? (auth.role === 'operator' ? undefined : auth.brandId!);
    if (brandId !== undefined) requireBrand(auth, brandId);
    const entries = await ctx.stores.auditLog.list(ctx.db, {
      brandId,
      before: query.before === undefined ? undefined : Number(query.before),
      limit: parseLimit(query.limit),
    });
    return { entries: entries.map((e) => ({ ...e, brand: e.brandId })) };
  },
});
