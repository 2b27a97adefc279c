import type { DeviceListResponse } from '@kluis/protocol';
import type { DataStore } from '../store/data-store.js';
import type { Transport } from '../transport/transport.js';
import type { AccountSlot } from './account-slot.js';

/** The device ids of our own account, as last heard from the server: where sync copies go. */
export class OwnDevices {
  constructor(
    private readonly data: DataStore,
    private readonly account: AccountSlot,
    private readonly transport: Transport,
  ) {}

  ids(): number[] {
    const me = this.account.current;
    return this.data.get<number[]>('ownDevices') ?? (me ? [me.deviceId] : []);
  }

  set(ids: number[]): void {
    this.data.set('ownDevices', [...new Set(ids)].sort((a, b) => a - b));
  }

  async refresh(): Promise<DeviceListResponse['devices']> {
    const res = await this.transport.api().listDevices();
    this.set(res.devices.map((d) => d.deviceId));
    return res.devices;
  }
}
