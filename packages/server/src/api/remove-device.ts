import { DeviceIdParams, ErrorCode, PRIMARY_DEVICE_ID } from '@kluis/protocol';
import { ApiError, notFound, notPrimary } from '../errors.js';
import { defineRoute } from './route.js';

/**
 * The primary removes any linked device; a linked device may remove itself. The
 * device's keys (cascade) and queue go with it, and its socket closes with 4001.
 */
export const removeDevice = defineRoute({
  name: 'removeDevice',
  auth: 'device',
  params: DeviceIdParams,
  async handler(ctx, { params, auth }) {
    const target = Number(params.deviceId);
    if (target === PRIMARY_DEVICE_ID) {
      throw new ApiError(ErrorCode.Forbidden, 'the primary device cannot be removed; re-register to start over');
    }
    if (auth.deviceId !== PRIMARY_DEVICE_ID && auth.deviceId !== target) throw notPrimary();
    const { devices, envelopes } = ctx.stores;
    await ctx.transaction(async (trx) => {
      if (!(await devices.remove(trx, auth.accountId, target))) throw notFound(`the account has no device ${target}`);
      await envelopes.removeForDevice(trx, auth.accountId, target);
    });
    ctx.delivery.deviceRemoved(auth.accountId, target);
    return {};
  },
});
