import { randomUUID } from 'node:crypto';
import { ErrorCode, MemberInviteResponse } from '@kluis/protocol';
import { INVITE_CODE_LENGTH, newCode } from '../auth/secrets.js';
import { ApiError, notFound } from '../errors.js';
import { accountState } from '../subscriptions/periods.js';
import { defineRoute } from './route.js';

/**
 * An active subscriber invites someone within the brand's quota. Only the inviter's count
 * goes up; the code row names no account, so once redeemed nothing links the two.
 * The invitee gets a first period of the brand's oldest plan on sale.
 */
export const createMemberInvite = defineRoute({
  name: 'createMemberInvite',
  auth: 'device',
  response: MemberInviteResponse,
  async handler(ctx, { auth }) {
    const now = ctx.clock();
    const code = newCode(INVITE_CODE_LENGTH);
    const remaining = await ctx.transaction(async (trx) => {
      const sub = await ctx.stores.subscriptions.get(trx, auth.accountId);
      const brand = sub && (await ctx.stores.brands.get(trx, sub.brandId));
      if (!sub || !brand) throw notFound('no such account');
      if (accountState(sub, sub.graceDays, now) !== 'active') {
        throw new ApiError(ErrorCode.SubscriptionExpired, 'only active subscribers may invite; renew first (`kluis renew CODE`)');
      }
      if (!brand.membersMayInvite || brand.retiredAt !== null) throw new ApiError(ErrorCode.Forbidden, `members of ${brand.name} cannot invite others`);
      const plan = await ctx.stores.plans.firstActive(trx, brand.id);
      if (!plan) throw new ApiError(ErrorCode.Forbidden, `${brand.name} has no plan on sale; invites are unavailable`);
      if (!(await ctx.stores.subscriptions.takeMemberInvite(trx, auth.accountId, brand.memberInviteQuota))) {
        throw new ApiError(ErrorCode.QuotaExceeded, `you have used all ${brand.memberInviteQuota} of your invites`);
      }
      // Day-rounded creation time: an exact one could be matched to the inviter's request.
      const day = Math.floor(now / 86_400_000) * 86_400_000;
      await ctx.stores.invites.insert(trx, [{ codeHash: code.hash, brandId: brand.id, createdAt: day, expiresAt: null, id: randomUUID(), planId: plan.id, source: 'member' }]);
      return brand.memberInviteQuota - sub.memberInvitesUsed - 1;
    });
    return { code: code.display, remaining };
  },
});
