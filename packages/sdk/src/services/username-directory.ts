import { normalizeUsername } from '@kluis/protocol';
import type { DataStore } from '../store/data-store.js';
import type { Transport } from '../transport/transport.js';
import type { AccountSlot } from './account-slot.js';

export interface Peer {
  accountId: string;
  username: string;
}

/** Username → account id: ourselves, then the contacts we know, then the server (remembered). */
export class UsernameDirectory {
  constructor(
    private readonly account: AccountSlot,
    private readonly data: DataStore,
    private readonly transport: Transport,
  ) {}

  /** Known locally, without asking the server (undefined when never looked up). */
  known(username: string): Peer | undefined {
    const u = normalizeUsername(username);
    const me = this.account.me();
    if (u === me.username) return { accountId: me.accountId, username: me.username };
    const id = this.data.accountIdOf(u);
    return id ? { accountId: id, username: u } : undefined;
  }

  async resolve(username: string): Promise<Peer> {
    const cached = this.known(username);
    if (cached) return cached;
    const r = await this.transport.api().lookupUsername(normalizeUsername(username));
    this.data.putContact(r.accountId, r.username);
    return { accountId: r.accountId, username: r.username };
  }
}
