import { PublicKey } from '@signalapp/libsignal-client';
import { KluisError } from '../errors.js';
import { safetyNumber } from '../safety-number.js';
import type { ClientServices } from './create-client.js';

/** Where a contact's identity key stands, from this device's store alone (no server request). */
export interface IdentityStatus {
  /** 'unknown': never talked; 'changed': a new key arrived and waits for trust(); sending is blocked. */
  state: 'unknown' | 'trusted' | 'changed';
  /** The user compared the safety number and marked it verified; a changed key clears it. */
  verified: boolean;
}

/** Safety numbers, changed keys and verification: `client.identity`. */
export class IdentityApi {
  constructor(private readonly s: ClientServices) {}

  /** The 60-digit safety number with `username`, computed with the identity key we trust. */
  async safetyNumber(username: string): Promise<string> {
    const me = this.s.account.me();
    const peer = await this.s.directory.resolve(username);
    const { store, locks } = this.s.ctx;
    let row = store.getIdentity(peer.accountId);
    if (!row) {
      // Never talked: build sessions now (the key is trusted on first use, as a first send would).
      await locks.run(peer.accountId, () => this.s.sender.establishSessions(peer.accountId));
      row = store.getIdentity(peer.accountId);
      if (!row) throw new KluisError('NO_IDENTITY', `no identity key known for ${peer.username}`);
    }
    return safetyNumber(me.accountId, me.identityKeyPair.publicKey, peer.accountId, PublicKey.deserialize(row.publicKey));
  }

  status(username: string): IdentityStatus {
    this.s.account.me();
    const peer = this.s.directory.known(username);
    const row = peer && this.s.ctx.store.getIdentity(peer.accountId);
    if (!row) return { state: 'unknown', verified: false };
    return { state: row.status === 'changed-pending' ? 'changed' : 'trusted', verified: row.verified };
  }

  /** Marks the safety number with `username` as compared (or not). Only a key we already trust can be verified. */
  async setVerified(username: string, verified: boolean): Promise<void> {
    this.s.account.me();
    const peer = await this.s.directory.resolve(username);
    await this.s.ctx.locks.run(peer.accountId, () => {
      const row = this.s.ctx.store.getIdentity(peer.accountId);
      if (!row && !verified) return;
      if (!row) throw new KluisError('NO_IDENTITY', `no identity key known for ${peer.username}: open the safety number first`);
      if (verified && row.status === 'changed-pending') throw new KluisError('IDENTITY_CHANGED', `the safety number with ${peer.username} changed: accept it before marking it verified`);
      this.s.ctx.store.putIdentity({ ...row, verified, updatedAt: this.s.ctx.now() });
    });
  }

  /** Accepts the changed identity key of `username`: sending is unblocked, old sessions are dropped. */
  async trust(username: string): Promise<void> {
    this.s.account.me();
    const peer = await this.s.directory.resolve(username);
    const { store, locks } = this.s.ctx;
    await locks.run(peer.accountId, () => {
      const row = store.getIdentity(peer.accountId);
      if (!row || row.status !== 'changed-pending' || !row.pendingKey) return;
      store.transaction(() => {
        store.putIdentity({ ...row, publicKey: row.pendingKey!, pendingKey: null, status: 'trusted', verified: false, updatedAt: this.s.ctx.now() });
        store.deleteSessionsForAccount(peer.accountId);
      });
    });
  }
}

/**
 * Before the SDK kept verification on the identity row, the app stored the safety numbers
 * the user had verified under this key of the profile's store. Once, at open: a number that
 * still matches marks the row verified; one that no longer matches was un-verified by the change.
 */
const LEGACY_VERIFIED_KEY = 'app.verifiedSafetyNumbers';

export function importLegacyVerifiedMarks(s: ClientServices): void {
  const { data, store } = s.ctx;
  const marks = data.get<Record<string, string>>(LEGACY_VERIFIED_KEY);
  const me = s.account.current;
  if (!marks || !me) return;
  store.transaction(() => {
    for (const [username, number] of Object.entries(marks)) {
      const accountId = data.accountIdOf(username);
      const row = accountId ? store.getIdentity(accountId) : undefined;
      if (!accountId || !row || row.status === 'changed-pending') continue;
      if (safetyNumber(me.accountId, me.identityKeyPair.publicKey, accountId, PublicKey.deserialize(row.publicKey)) === number)
        store.putIdentity({ ...row, verified: true, updatedAt: s.ctx.now() });
    }
    data.delete(LEGACY_VERIFIED_KEY);
  });
}
