import { openDeviceName } from '../device-name.js';
import { approveLink, createLinkCode } from '../linking.js';
import type { ClientServices } from './create-client.js';
import type { DeviceInfo } from '../types.js';

/** Our account's devices and linking new ones: `client.devices`. */
export class DevicesApi {
  constructor(private readonly s: ClientServices) {}

  async list(): Promise<DeviceInfo[]> {
    const me = this.s.account.me();
    const devices = await this.s.ownDevices.refresh();
    return devices.map((d) => {
      const info: DeviceInfo = { deviceId: d.deviceId, createdAt: d.createdAt, current: d.deviceId === me.deviceId };
      if (d.lastSeenDay !== undefined) info.lastSeenDay = d.lastSeenDay;
      const name = d.name ? openDeviceName(me.identityKeyPair.privateKey, d.name) : undefined;
      if (name !== undefined) info.name = name;
      return info;
    });
  }

  async remove(deviceId: number): Promise<void> {
    const me = this.s.account.me();
    await this.s.transport.api().removeDevice(deviceId);
    this.s.ownDevices.set(this.s.ownDevices.ids().filter((d) => d !== deviceId));
    await this.s.ctx.locks.run(me.accountId, () => this.s.ctx.store.deleteSession(`${me.accountId}.${deviceId}`));
  }

  /** Primary: a short-lived code for a new device. */
  async createLinkCode(): Promise<{ code: string; expiresAt: number }> {
    return createLinkCode(this.s.enrolment);
  }

  /**
   * Primary: waits for the new device's request, shows its verification number to `confirm`,
   * and, if confirmed, seals the account secrets to the new device's one-time key.
   */
  async approveLink(
    code: string,
    o: { confirm: (verification: string) => boolean | Promise<boolean>; timeoutMs?: number },
  ): Promise<{ deviceId: number }> {
    const profileKey = this.s.convo.messenger.profileKey();
    const r = await approveLink(this.s.enrolment, code, { ...o, ...(profileKey ? { profileKey } : {}) });
    // The new device learns our settings and groups from us (and the profile key again).
    this.s.tasks.run('sync to new device', async () => {
      await this.s.ownDevices.refresh();
      await this.s.convo.messenger.syncEverything();
    });
    return r;
  }
}
