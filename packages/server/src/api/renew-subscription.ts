import { ErrorCode, isWellFormedCode, RenewRequest, SubscriptionInfo } from '@kluis/protocol';
import { hashCode, INVITE_CODE_LENGTH } from '../auth/secrets.js';
import { ApiError, notFound } from '../errors.js';
import { mistypedCode, rejectedCode } from '../subscriptions/code-errors.js';
import { renewedUntil } from '../subscriptions/periods.js';
import type { AppContext } from '../context.js';
import { getSubscription } from './get-subscription.js';
import { defineRoute } from './route.js';

/**
 * Redeems a renewal code: paid-until moves by the plan's duration from the later of now
 * and the current end. Sending works again at once (the gate's cache is dropped).
 */
export const renewSubscription = defineRoute({
  name: 'renewSubscription',
  auth: 'device',
  body: RenewRequest,
  response: SubscriptionInfo,
  async handler(ctx, input) {
    const { body, auth } = input;
    if (!isWellFormedCode(body.code, INVITE_CODE_LENGTH)) throw mistypedCode('renewal');
    const now = ctx.clock();
    const codeHash = hashCode(body.code);
    // Taken before the lookup, given back unless the code was refused (rules.ts).
    ctx.limits.take('renewalFailure', auth.accountId);
    let refused = false;
    try {
      await renew(ctx, auth.accountId, codeHash, now);
    } catch (err) {
      refused = err instanceof ApiError && err.code === ErrorCode.InvalidCode;
      throw err;
    } finally {
      if (!refused) ctx.limits.refund('renewalFailure', auth.accountId);
    }
    ctx.subscriptions.forget(auth.accountId);
    return getSubscription.handler(ctx, { ...input, body: undefined }) as never;
  },
});

/** The redemption itself: one transaction, rolled back on every refusal. */
async function renew(ctx: AppContext, accountId: string, codeHash: Buffer, now: number): Promise<void> {
  await ctx.transaction(async (trx) => {
    const sub = await ctx.stores.subscriptions.get(trx, accountId);
    if (!sub) throw notFound('no such account');
    if (sub.purgedAt !== null) throw new ApiError(ErrorCode.AccountSuspended, 'this account was deleted after its retention period; register again with an invite');
    const code = await ctx.stores.invites.consume(trx, codeHash, now, 'renewal');
    if (!code) throw await rejectedCode(trx, ctx.stores.invites, codeHash, 'renewal', now);
    if (code.brandId !== sub.brandId) throw new ApiError(ErrorCode.InvalidCode, 'this renewal code belongs to another brand');
    const plan = code.planId ? await ctx.stores.plans.get(trx, code.planId) : undefined;
    if (!plan) throw new ApiError(ErrorCode.InvalidCode, 'this renewal code has no plan; ask your reseller for a new one');
    await ctx.stores.subscriptions.setPaidUntil(trx, accountId, renewedUntil(sub.paidUntil, now, plan.durationUnit, plan.durationCount));
  });
}
