/**
 * Successful device logins, keyed by SHA-256 of the Authorization header, so only the
 * first request of a device pays argon2. Bounded (least recently used goes first) and
 * evicted per device when it is removed or re-registered. The key is a hash, so a heap
 * dump does not hand out usable headers.
 */
export interface CachedIdentity {
  accountId: string;
  deviceId: number;
}

export class AuthCache {
  private readonly entries = new Map<string, CachedIdentity>();
  /** Bumped on every eviction: a verify that started before it must not be cached. */
  private epoch = 0;

  constructor(private readonly maxEntries: number) {}

  get(key: string): CachedIdentity | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Refresh recency: delete + set moves the key to the end of the Map's order.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  currentEpoch(): number {
    return this.epoch;
  }

  /** Caches unless an eviction happened since `epoch` (the device may be gone now). */
  set(key: string, identity: CachedIdentity, epoch = this.epoch): void {
    if (this.maxEntries <= 0 || epoch !== this.epoch) return;
    this.entries.delete(key);
    this.entries.set(key, identity);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets a device's cached logins (all devices of the account without `deviceId`). */
  evict(accountId: string, deviceId?: number): void {
    this.epoch++;
    for (const [key, identity] of this.entries) {
      if (identity.accountId === accountId && (deviceId === undefined || identity.deviceId === deviceId)) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
