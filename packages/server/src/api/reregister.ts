import { PRIMARY_DEVICE_ID, RegisterResponse, ReregisterRequest } from '@kluis/protocol';
import { newDevice } from '../accounts/new-device.js';
import { notFound } from '../errors.js';
import { parseIdentityKey, verifyDeviceKeys } from '../keys/device-keys.js';
import { defineRoute } from './route.js';

/**
 * A reinstall with a fresh identity key: linked devices go (they hold the old identity)
 * and queued envelopes are dropped (encrypted to keys that no longer exist).
 */
export const reregister = defineRoute({
  name: 'reregister',
  auth: 'device',
  primaryOnly: true,
  body: ReregisterRequest,
  response: RegisterResponse,
  async handler(ctx, { body, auth }) {
    // A new identity and device for a suspended account would be a way round the gate.
    await ctx.subscriptions.assertCanConnect(auth.accountId, 'the account cannot be re-registered');
    const identity = parseIdentityKey(body.identityKey);
    const keys = verifyDeviceKeys(identity.key, body);
    const passwordHash = await ctx.hasher.hash(body.password);
    const now = ctx.clock();
    const { accounts, devices, prekeys, envelopes, linkCodes } = ctx.stores;
    const accountId = auth.accountId;
    const { username, removed } = await ctx.transaction(async (trx) => {
      const account = await accounts.byId(trx, accountId);
      if (!account) throw notFound('no such account');
      await accounts.setIdentityKey(trx, accountId, identity.bytes);
      const removed = await devices.removeLinked(trx, accountId);
      await devices.replace(
        trx,
        newDevice({ accountId, deviceId: PRIMARY_DEVICE_ID, registrationId: body.registrationId, passwordHash, name: body.name, keys, now }),
      );
      await prekeys.removeForDevice(trx, accountId, PRIMARY_DEVICE_ID);
      await prekeys.addEc(trx, accountId, PRIMARY_DEVICE_ID, keys.preKeys);
      await prekeys.addKyber(trx, accountId, PRIMARY_DEVICE_ID, keys.kyberPreKeys);
      await envelopes.removeForAccount(trx, accountId);
      await linkCodes.removeForAccount(trx, accountId);
      return { username: account.username, removed };
    });
    for (const deviceId of removed) ctx.delivery.deviceRemoved(accountId, deviceId);
    ctx.delivery.deviceSuperseded(accountId, PRIMARY_DEVICE_ID);
    ctx.auth.device.remember(accountId, PRIMARY_DEVICE_ID, body.password);
    return { accountId, deviceId: PRIMARY_DEVICE_ID, username };
  },
});
