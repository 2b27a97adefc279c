import { loadAccount, saveAccount, type AccountState } from '../account.js';
import { AlreadyRegisteredError, KluisError, NotRegisteredError } from '../errors.js';
import type { DataStore } from '../store/data-store.js';

/**
 * Which account this profile holds (none before register or link) and whether the client
 * was closed: the one answer every service asks before it acts.
 */
export class AccountSlot {
  private state: AccountState | undefined;
  private closed = false;
  private readonly adopted: Array<() => void> = [];

  constructor(private readonly data: DataStore) {
    this.state = loadAccount(data);
  }

  get current(): AccountState | undefined {
    return this.state;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  assertOpen(): void {
    if (this.closed) throw new KluisError('CLOSED', 'this client was closed');
  }

  /** The account, or NotRegisteredError. */
  me(): AccountState {
    this.assertOpen();
    if (!this.state) throw new NotRegisteredError();
    return this.state;
  }

  requireUnregistered(): void {
    this.assertOpen();
    if (this.state) throw new AlreadyRegisteredError();
  }

  /** Stores a new account (registration, linking, re-registration); the caller holds the transaction. */
  adopt(account: AccountState): void {
    saveAccount(this.data, account);
    this.state = account;
    for (const f of this.adopted) f();
  }

  /** Runs after every adopt(): services that cache per-account state drop it. */
  onAdopt(f: () => void): void {
    this.adopted.push(f);
  }

  close(): void {
    this.closed = true;
  }
}
