import { randomUUID } from 'node:crypto';
import { ErrorCode, isWellFormedCode, PRIMARY_DEVICE_ID, RegisterRequest, RegisterResponse } from '@kluis/protocol';
import { newDevice } from '../accounts/new-device.js';
import { checkUsername } from '../accounts/username.js';
import { hashCode, INVITE_CODE_LENGTH } from '../auth/secrets.js';
import { ApiError } from '../errors.js';
import { parseIdentityKey, verifyDeviceKeys } from '../keys/device-keys.js';
import { mistypedCode, rejectedCode } from '../subscriptions/code-errors.js';
import { addPeriod } from '../subscriptions/periods.js';
import { defineRoute } from './route.js';

const usernameTaken = () => new ApiError(ErrorCode.UsernameTaken, 'this username is taken; choose another');

export const register = defineRoute({
  name: 'register',
  auth: 'none',
  body: RegisterRequest,
  response: RegisterResponse,
  async handler(ctx, { body }) {
    const username = checkUsername(body.username);
    if (!isWellFormedCode(body.inviteCode, INVITE_CODE_LENGTH)) throw mistypedCode('invite');
    const identity = parseIdentityKey(body.identityKey);
    const keys = verifyDeviceKeys(identity.key, body);
    // No identity yet: one bucket per node for failed invite redemptions. Each attempt takes a
    // token before the (costly) argon2 hash and gets it back unless its invite was refused,
    // so a flood of bad codes is cut here while it lasts (it also pauses real registrations).
    ctx.limits.take('inviteFailure');
    let inviteRefused = false;
    const accountId = randomUUID();
    const { accounts, devices, invites, prekeys } = ctx.stores;
    try {
      // argon2 before the transaction: the database is never held while hashing.
      const passwordHash = await ctx.hasher.hash(body.password);
      const now = ctx.clock();
      await ctx.transaction(async (trx) => {
        // The invite first: without one, nobody learns whether a username exists.
        const codeHash = hashCode(body.inviteCode);
        const invite = await invites.consume(trx, codeHash, now, 'invite');
        if (!invite) throw await rejectedCode(trx, invites, codeHash, 'invite', now);
        // The first period of the invite's plan (codes from before plans existed: no end).
        const plan = invite.planId ? await ctx.stores.plans.get(trx, invite.planId) : undefined;
        const paidUntil = plan ? addPeriod(now, plan.durationUnit, plan.durationCount) : null;
        // A taken username aborts the transaction, which also un-consumes the invite.
        if (await accounts.byUsername(trx, username)) throw usernameTaken();
        await accounts.insert(trx, { id: accountId, username, brandId: invite.brandId, identityKey: identity.bytes, createdAt: now, paidUntil });
        await devices.insert(
          trx,
          newDevice({ accountId, deviceId: PRIMARY_DEVICE_ID, registrationId: body.registrationId, passwordHash, name: body.name, keys, now }),
        );
        await prekeys.addEc(trx, accountId, PRIMARY_DEVICE_ID, keys.preKeys);
        await prekeys.addKyber(trx, accountId, PRIMARY_DEVICE_ID, keys.kyberPreKeys);
      });
    } catch (err) {
      inviteRefused = err instanceof ApiError && err.code === ErrorCode.InvalidInvite;
      if (ctx.adapter.isUniqueViolation(err)) throw usernameTaken();
      throw err;
    } finally {
      if (!inviteRefused) ctx.limits.refund('inviteFailure');
    }
    ctx.auth.device.remember(accountId, PRIMARY_DEVICE_ID, body.password);
    return { accountId, deviceId: PRIMARY_DEVICE_ID, username };
  },
});
