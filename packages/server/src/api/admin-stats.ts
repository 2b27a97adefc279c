import { AdminStats } from '@kluis/protocol';
import { DAY_MS } from '../subscriptions/periods.js';
import { accountView, MAX_LIMIT } from './admin-support.js';
import { defineRoute } from './route.js';

/** Dashboard counts. Service-wide numbers (sockets, queued envelopes) are for operators only. */
export const adminStats = defineRoute({
  name: 'adminStats',
  auth: 'admin',
  summary: 'Dashboard: accounts by brand and state, devices online, envelopes queued, codes used this week, health',
  response: AdminStats,
  async handler(ctx, { auth }) {
    const now = ctx.clock();
    const brands = (await ctx.stores.brands.list(ctx.db)).filter((b) => auth.role === 'operator' || b.id === auth.brandId);
    const weekAgoDay = Math.floor(now / DAY_MS) * DAY_MS - 7 * DAY_MS;
    const used = await ctx.stores.invites.usedSince(ctx.db, weekAgoDay);
    const out = [];
    for (const brand of brands) {
      const counts = { active: 0, grace: 0, suspended: 0, purged: 0 };
      // Paged by limit: fine for the reference load (~8,000 accounts); a SQL count per state would need the clock in SQL.
      const rows = await ctx.stores.subscriptions.adminList(ctx.db, { brandId: brand.id, limit: MAX_LIMIT * 10 });
      for (const r of rows) counts[accountView(r, now).state]++;
      out.push({ brand: brand.id, accounts: counts, codesUsedThisWeek: used.get(brand.id) ?? 0 });
    }
    const operator = auth.role === 'operator';
    return {
      brands: out,
      devicesOnline: operator ? ctx.delivery.sockets.connections.size : null,
      envelopesQueued: operator ? await ctx.stores.envelopes.count(ctx.db) : null,
      health: { status: 'ok' as const, uptimeSeconds: Math.max(0, Math.floor((now - ctx.startedAt) / 1000)), now },
    };
  },
});
