import { AccountParams, PRIMARY_DEVICE_ID, RevokeDevicesRequest, RevokeDevicesResponse } from '@kluis/protocol';
import { audit, loadAccount } from './admin-support.js';
import { defineRoute } from './route.js';

/** Removes devices (default: every linked one) with their keys and queues; their sockets close (4001). */
export const revokeAccountDevices = defineRoute({
  name: 'revokeAccountDevices',
  auth: 'admin',
  summary: "Revoke an account's devices (default: all linked devices)",
  params: AccountParams,
  body: RevokeDevicesRequest,
  bodyOptional: true,
  response: RevokeDevicesResponse,
  async handler(ctx, { params, body, auth }) {
    const revoked = await ctx.transaction(async (trx) => {
      const account = await loadAccount(ctx, trx, auth, params.accountId);
      const existing = await ctx.stores.devices.deviceIds(trx, account.accountId);
      const wanted = body.deviceIds ? existing.filter((d) => body.deviceIds!.includes(d)) : existing.filter((d) => d !== PRIMARY_DEVICE_ID);
      for (const id of wanted) {
        await ctx.stores.envelopes.removeForDevice(trx, account.accountId, id);
        await ctx.stores.prekeys.removeForDevice(trx, account.accountId, id);
        await ctx.stores.devices.remove(trx, account.accountId, id);
      }
      await audit(ctx, trx, auth, 'account.revoke-devices', { brand: account.brandId, target: account.username, detail: { devices: wanted } });
      return wanted;
    });
    for (const id of revoked) ctx.delivery.deviceRemoved(params.accountId, id);
    return { revoked };
  },
});
