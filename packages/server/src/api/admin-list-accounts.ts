import { AccountList, ListAccountsQuery, normalizeUsername } from '@kluis/protocol';
import { requireBrand } from '../auth/admin-auth.js';
import { accountView, MAX_LIMIT, parseLimit } from './admin-support.js';
import { defineRoute } from './route.js';

/** Username, brand, state, paid-until, device count, created, last-seen day: nothing about contacts or messages. */
export const listAccounts = defineRoute({
  name: 'listAccounts',
  auth: 'admin',
  summary: 'Search accounts (a brand admin sees only its brand)',
  query: ListAccountsQuery,
  response: AccountList,
  async handler(ctx, { query, auth }) {
    const brandId = query.brand ?? (auth.role === 'operator' ? undefined : auth.brandId!);
    if (brandId !== undefined) requireBrand(auth, brandId);
    const limit = parseLimit(query.limit);
    const now = ctx.clock();
    // State depends on the clock and the brand's grace, so it is filtered here, not in SQL.
    const rows = await ctx.stores.subscriptions.adminList(ctx.db, {
      brandId,
      usernamePrefix: query.q ? normalizeUsername(query.q) : undefined,
      limit: query.state ? MAX_LIMIT : limit,
    });
    const views = rows.map((r) => accountView(r, now)).filter((v) => !query.state || v.state === query.state);
    return { accounts: views.slice(0, limit) };
  },
});
