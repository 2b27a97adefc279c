import type { SubscriptionInfo } from '@kluis/protocol';
import type { Settings } from '../conversations/messenger.js';
import type { ClientServices } from './create-client.js';

export type ClientSettings = Settings & {
  /** Accept sealed messages from people who do not have our profile key yet. */
  sealedFromAnyone: boolean;
};

/** Settings shared by our devices: `client.settings`. */
export class SettingsApi {
  constructor(private readonly s: ClientServices) {}

  async get(): Promise<ClientSettings> {
    this.s.account.assertOpen();
    return { ...this.s.convo.settings(), sealedFromAnyone: this.s.sealed.unrestricted() };
  }

  async set(patch: Partial<ClientSettings>): Promise<ClientSettings> {
    this.s.account.me();
    const { sealedFromAnyone, ...rest } = patch;
    if (sealedFromAnyone !== undefined) await this.s.sealed.setUnrestricted(sealedFromAnyone);
    return { ...(await this.s.convo.messenger.setSettings(rest)), sealedFromAnyone: this.s.sealed.unrestricted() };
  }
}

/** The paid plan: `client.subscription`. */
export class SubscriptionApi {
  constructor(private readonly s: ClientServices) {}

  /** Paid-until, state (active, grace, suspended), brand look and member-invite quota. */
  async info(): Promise<SubscriptionInfo> {
    this.s.account.me();
    return this.s.transport.api().subscription();
  }

  /** Redeems a renewal code; sending works again at once if the account was in grace. */
  async renew(code: string): Promise<SubscriptionInfo> {
    this.s.account.me();
    return this.s.transport.api().renew(code);
  }

  /** A member invite within the brand's quota; nothing links it to this account once redeemed. */
  async createInvite(): Promise<{ code: string; remaining: number }> {
    this.s.account.me();
    return this.s.transport.api().createMemberInvite();
  }
}

