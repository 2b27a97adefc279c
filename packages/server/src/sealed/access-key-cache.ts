import type { Db } from '../db/schema.js';
import type { RecipientAccess } from './access.js';

/** Loads the given accounts in one query; an id absent from the answer is unknown (or purged). */
export type AccessLoader = (accountIds: readonly string[]) => Promise<Map<string, RecipientAccess>>;

/** About 20 MB of heap at 100,000 accounts (uuid, 16-byte key; measured); past that the least recently used go. */
export const DEFAULT_ACCESS_CACHE_SIZE = 100_000;

/** The accounts table's view of sealed access, for the cache's misses. */
export function recipientAccessLoader(db: Db): AccessLoader {
  return async (accountIds) => {
    const out = new Map<string, RecipientAccess>();
    if (accountIds.length === 0) return out;
    const rows = await db
      .selectFrom('accounts')
      .select(['id', 'access_key', 'unrestricted_access', 'purged_at'])
      .where('id', 'in', [...accountIds])
      .execute();
    for (const r of rows) if (r.purged_at === null) out.set(r.id, { key: r.access_key, unrestricted: Number(r.unrestricted_access) === 1 });
    return out;
  };
}

/**
 * Recipients' sealed-sender access as the access check needs it, kept in memory so a
 * sealed send does not read the database. Unknown accounts are remembered too (as
 * `undefined`): otherwise a probe with a wrong key would answer from memory for an
 * existing account and after a query for an unknown one, and the time difference would be
 * the existence oracle the identical 401 avoids. The price is that random ids take room in
 * the LRU; the cap bounds it, and an evicted real entry only costs one query.
 *
 * Correctness rests on every committed change calling `invalidate` (or `clear`) after its
 * commit. A load that was under way when its account was invalidated may have read the old
 * row: its result still answers the request that asked, but is not stored.
 */
export class AccessKeyCache {
  /** Map order is recency: a hit moves the entry to the end, the first entry goes when full. */
  private readonly entries = new Map<string, RecipientAccess | undefined>();
  /**
   * Only accounts with a load in flight: how many, and the tick of the latest invalidation
   * since the first began. Kept apart so idle accounts cost nothing and the map stays small.
   */
  private readonly inflight = new Map<string, { loads: number; invalidatedAt: number }>();
  private tick = 0;
  private clearedAt = 0;
  private hitCount = 0;
  private missCount = 0;

  constructor(
    private readonly load: AccessLoader,
    /** 0 turns caching off (every lookup queries). */
    readonly maxEntries = DEFAULT_ACCESS_CACHE_SIZE,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError('maxEntries must be a non-negative integer');
  }

  /** Every requested id answered: cached ones from memory, all misses in one load. */
  async get(accountIds: readonly string[]): Promise<Map<string, RecipientAccess | undefined>> {
    const out = new Map<string, RecipientAccess | undefined>();
    // A Set: a multi-recipient send names up to MAX_GROUP_MEMBERS accounts.
    const missed = new Set<string>();
    for (const id of accountIds) {
      if (out.has(id)) continue;
      if (this.entries.has(id)) {
        const value = this.entries.get(id);
        this.entries.delete(id);
        this.entries.set(id, value);
        out.set(id, value);
        this.hitCount++;
      } else {
        missed.add(id);
      }
    }
    if (missed.size === 0) return out;
    const misses = [...missed];
    this.missCount += misses.length;
    const started = this.tick;
    for (const id of misses) {
      const f = this.inflight.get(id);
      if (f) f.loads++;
      else this.inflight.set(id, { loads: 1, invalidatedAt: 0 });
    }
    try {
      const loaded = await this.load(misses);
      const storable = this.clearedAt <= started;
      for (const id of misses) {
        const value = loaded.get(id);
        out.set(id, value);
        if (storable && this.inflight.get(id)!.invalidatedAt <= started) this.store(id, value);
      }
    } finally {
      for (const id of misses) {
        const f = this.inflight.get(id)!;
        if (--f.loads === 0) this.inflight.delete(id);
      }
    }
    return out;
  }

  /** After a committed change of the account's key, flag, existence or purge. */
  invalidate(accountId: string): void {
    this.entries.delete(accountId);
    const f = this.inflight.get(accountId);
    if (f) f.invalidatedAt = ++this.tick;
  }

  /** Forgets everything, including what loads under way would store (invalidations may have been missed). */
  clear(): void {
    this.entries.clear();
    this.clearedAt = ++this.tick;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Account lookups answered from memory / from the database, since start. */
  get stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hitCount, misses: this.missCount, size: this.entries.size };
  }

  private store(id: string, value: RecipientAccess | undefined): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(id);
    this.entries.set(id, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
