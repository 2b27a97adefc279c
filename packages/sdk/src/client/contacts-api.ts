import type { ClientServices } from './create-client.js';

/** Other people: their profiles, blocking. `client.contacts`. */
export class ContactsApi {
  constructor(private readonly s: ClientServices) {}

  /** A contact's profile (name, avatar) if they shared their profile key with us. */
  async profile(username: string, o: { refresh?: boolean } = {}): Promise<{ name?: string; avatar?: Uint8Array } | undefined> {
    this.s.account.me();
    return this.s.convo.profile(username, o);
  }

  /** Blocked people cannot reach us; our profile key rotates so they lose our profile. */
  async block(username: string): Promise<void> {
    this.s.account.me();
    await this.s.convo.block(username);
  }

  async unblock(username: string): Promise<void> {
    this.s.account.me();
    await this.s.convo.unblock(username);
  }
}

/** Our own profile: `client.profile`. */
export class ProfileApi {
  constructor(private readonly s: ClientServices) {}

  /** Our display name and avatar, encrypted with our profile key (the server stores ciphertext). */
  async set(p: { name: string; avatar?: Uint8Array<ArrayBuffer> }): Promise<void> {
    this.s.account.me();
    await this.s.convo.setProfile(p);
  }

  /** Our own profile as last set on this device (undefined if never set here). */
  async get(): Promise<{ name: string; avatar?: Uint8Array } | undefined> {
    this.s.account.me();
    return this.s.convo.ownProfile();
  }
}
