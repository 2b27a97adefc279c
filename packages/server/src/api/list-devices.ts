import { DeviceListResponse } from '@kluis/protocol';
import { defineRoute } from './route.js';

export const listDevices = defineRoute({
  name: 'listDevices',
  auth: 'device',
  response: DeviceListResponse,
  async handler(ctx, { auth }) {
    const devices = await ctx.stores.devices.list(ctx.db, auth.accountId);
    return {
      devices: devices.map((d) => ({
        deviceId: d.deviceId,
        ...(d.name && { name: d.name.toString('base64') }),
        createdAt: d.createdAt,
        ...(d.lastSeenDay !== null && { lastSeenDay: d.lastSeenDay }),
      })),
    };
  },
});
