import { SubscriptionInfo } from '@kluis/protocol';
import { notFound } from '../errors.js';
import { accountState, graceEndsAt } from '../subscriptions/periods.js';
import { defineRoute } from './route.js';

/** The subscriber's own paid-until, state and brand look; works while suspended, so renewal stays possible. */
export const getSubscription = defineRoute({
  name: 'getSubscription',
  auth: 'device',
  response: SubscriptionInfo,
  async handler(ctx, { auth }) {
    const sub = await ctx.stores.subscriptions.get(ctx.db, auth.accountId);
    const brand = sub && (await ctx.stores.brands.get(ctx.db, sub.brandId));
    if (!sub || !brand) throw notFound('no such account');
    return {
      state: accountState(sub, sub.graceDays, ctx.clock()),
      paidUntil: sub.paidUntil,
      graceEndsAt: graceEndsAt(sub.paidUntil, sub.graceDays),
      brand: {
        slug: brand.id,
        name: brand.name,
        primaryColor: brand.primaryColor,
        accentColor: brand.accentColor,
        logoUrl: brand.logoUrl,
        defaultLanguage: brand.defaultLanguage,
      },
      memberInvites: { allowed: brand.membersMayInvite, quota: brand.memberInviteQuota, used: sub.memberInvitesUsed },
    };
  },
});
