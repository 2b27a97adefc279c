import type { SubscriptionGate } from '../subscriptions/gate.js';
import { DeviceAuthenticator, type DeviceIdentity } from './device-auth.js';

/**
 * The device authenticator the WebSocket upgrade uses: valid credentials are not enough,
 * the account must not be suspended. HTTP routes keep the plain one, so a suspended
 * account can still read its subscription and renew.
 */
export class SocketDeviceAuthenticator extends DeviceAuthenticator {
  private gate?: SubscriptionGate;

  /** Set after construction: the gate needs stores that are built alongside. */
  useGate(gate: SubscriptionGate): this {
    this.gate = gate;
    return this;
  }

  override async authenticate(header: string | undefined, address?: string): Promise<DeviceIdentity> {
    const identity = await super.authenticate(header, address);
    await this.gate?.assertCanConnect(identity.accountId);
    return identity;
  }
}
