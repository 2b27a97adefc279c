import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb, seedAccount, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import type { RecipientAccess } from './access.js';
import { AccessKeyCache, recipientAccessLoader, type AccessLoader } from './access-key-cache.js';

const access = (n: number): RecipientAccess => ({ key: Buffer.alloc(16, n), unrestricted: false });

/** A store of the given accounts; records every query. */
function fakeStore(known = new Map<string, RecipientAccess>()) {
  const queries: string[][] = [];
  const load: AccessLoader = async (ids) => {
    queries.push([...ids]);
    return new Map(ids.filter((id) => known.has(id)).map((id) => [id, known.get(id)!]));
  };
  return { known, queries, load };
}

/** A loader whose answers the test releases by hand, to interleave invalidations. */
function gatedStore(known: Map<string, RecipientAccess>) {
  const pending: Array<{ ids: string[]; snapshot: Map<string, RecipientAccess>; release: () => void }> = [];
  const load: AccessLoader = (ids) =>
    new Promise((resolve) => {
      // The row as read "now", when the query runs: a later change is not in it.
      const snapshot = new Map(ids.filter((id) => known.has(id)).map((id) => [id, known.get(id)!]));
      pending.push({ ids: [...ids], snapshot, release: () => resolve(snapshot) });
    });
  return { pending, load };
}

describe('AccessKeyCache', () => {
  it('answers hits from memory without a query', async () => {
    const s = fakeStore(new Map([['a', access(1)]]));
    const cache = new AccessKeyCache(s.load);
    expect((await cache.get(['a'])).get('a')).toEqual(access(1));
    expect(s.queries).toEqual([['a']]);
    for (let i = 0; i < 5; i++) expect((await cache.get(['a'])).get('a')).toEqual(access(1));
    expect(s.queries).toHaveLength(1);
    expect(cache.stats).toEqual({ hits: 5, misses: 1, size: 1 });
  });

  it('remembers unknown accounts too, so they answer from memory like known ones', async () => {
    const s = fakeStore(new Map([['a', access(1)]]));
    const cache = new AccessKeyCache(s.load);
    const first = await cache.get(['ghost', 'a']);
    expect(first.has('ghost')).toBe(true);
    expect(first.get('ghost')).toBeUndefined();
    await cache.get(['ghost']);
    expect(s.queries).toEqual([['ghost', 'a']]);
  });

  it('loads all misses of one lookup in one query, hits left out, duplicates once', async () => {
    const s = fakeStore(new Map(['a', 'b', 'c', 'd'].map((id, i) => [id, access(i)])));
    const cache = new AccessKeyCache(s.load);
    await cache.get(['a', 'b']);
    const got = await cache.get(['a', 'c', 'b', 'd', 'c', 'x']);
    expect(s.queries).toEqual([['a', 'b'], ['c', 'd', 'x']]);
    expect([...got.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'x']);
    expect(got.get('d')).toEqual(access(3));
  });

  it('invalidate drops one account: the next lookup reads the new row', async () => {
    const s = fakeStore(new Map([['a', access(1)], ['b', access(2)]]));
    const cache = new AccessKeyCache(s.load);
    await cache.get(['a', 'b']);
    s.known.set('a', access(9));
    expect((await cache.get(['a'])).get('a')).toEqual(access(1));
    cache.invalidate('a');
    expect((await cache.get(['a', 'b'])).get('a')).toEqual(access(9));
    expect(s.queries).toEqual([['a', 'b'], ['a']]);
    // Deletion likewise: the account is then unknown.
    s.known.delete('b');
    cache.invalidate('b');
    expect((await cache.get(['b'])).get('b')).toBeUndefined();
  });

  it('clear drops everything', async () => {
    const s = fakeStore(new Map([['a', access(1)]]));
    const cache = new AccessKeyCache(s.load);
    await cache.get(['a', 'b']);
    cache.clear();
    expect(cache.size).toBe(0);
    await cache.get(['a', 'b']);
    expect(s.queries).toHaveLength(2);
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const s = fakeStore(new Map(['a', 'b', 'c', 'd'].map((id, i) => [id, access(i)])));
    const cache = new AccessKeyCache(s.load, 3);
    await cache.get(['a', 'b', 'c']);
    await cache.get(['a']); // a is now the most recent; b the least
    await cache.get(['d']);
    expect(cache.size).toBe(3);
    s.queries.length = 0;
    await cache.get(['a', 'c', 'd']);
    expect(s.queries).toEqual([]);
    await cache.get(['b']);
    expect(s.queries).toEqual([['b']]);
    expect(cache.size).toBe(3);
  });

  it('maxEntries 0 caches nothing', async () => {
    const s = fakeStore(new Map([['a', access(1)]]));
    const cache = new AccessKeyCache(s.load, 0);
    await cache.get(['a']);
    await cache.get(['a']);
    expect(s.queries).toHaveLength(2);
    expect(() => new AccessKeyCache(s.load, -1)).toThrow(RangeError);
  });

  describe('a load under way when its account changes', () => {
    it('answers its caller but is not stored: the old key cannot come back after the invalidation', async () => {
      const known = new Map([['a', access(1)], ['b', access(2)]]);
      const g = gatedStore(known);
      const cache = new AccessKeyCache(g.load);
      const slow = cache.get(['a', 'b']);
      // The query read the old row; then the key changed, committed, and was invalidated.
      known.set('a', access(9));
      cache.invalidate('a');
      g.pending[0]!.release();
      expect((await slow).get('a')).toEqual(access(1));
      // b was not touched: stored. a was: the next lookup reads again and sees the new key.
      const next = cache.get(['a', 'b']);
      expect(g.pending[1]!.ids).toEqual(['a']);
      g.pending[1]!.release();
      expect((await next).get('a')).toEqual(access(9));
      expect((await cache.get(['a'])).get('a')).toEqual(access(9));
      expect(g.pending).toHaveLength(2);
    });

    it('a load that began after the invalidation is stored, even while an older one is still out', async () => {
      const known = new Map([['a', access(1)]]);
      const g = gatedStore(known);
      const cache = new AccessKeyCache(g.load);
      const old = cache.get(['a']);
      known.set('a', access(9));
      cache.invalidate('a');
      const fresh = cache.get(['a']);
      g.pending[1]!.release();
      expect((await fresh).get('a')).toEqual(access(9));
      // The stale answer arrives last and must not overwrite the fresh entry.
      g.pending[0]!.release();
      expect((await old).get('a')).toEqual(access(1));
      expect((await cache.get(['a'])).get('a')).toEqual(access(9));
      expect(g.pending).toHaveLength(2);
    });

    it('clear during a load: nothing of it is stored', async () => {
      const g = gatedStore(new Map([['a', access(1)]]));
      const cache = new AccessKeyCache(g.load);
      const slow = cache.get(['a']);
      cache.clear();
      g.pending[0]!.release();
      await slow;
      expect(cache.size).toBe(0);
    });

    it('a failed load stores nothing and leaves no bookkeeping behind', async () => {
      let fail = true;
      const s = fakeStore(new Map([['a', access(1)]]));
      const cache = new AccessKeyCache(async (ids) => {
        if (fail) throw new Error('store down');
        return s.load(ids);
      });
      await expect(cache.get(['a'])).rejects.toThrow('store down');
      expect(cache.size).toBe(0);
      fail = false;
      expect((await cache.get(['a'])).get('a')).toEqual(access(1));
      expect(cache.size).toBe(1);
    });
  });
});

let t: TestDb;

describeStores('recipientAccessLoader', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
  });
  afterEach(() => t.close());

  it('reads key and flag, leaves unknown and purged accounts out', async () => {
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'];
    for (const id of ids) await seedAccount(t.db, id);
    await t.db.updateTable('accounts').set({ access_key: Buffer.alloc(16, 7), unrestricted_access: 1 }).where('id', '=', ids[0]!).execute();
    await t.db.updateTable('accounts').set({ purged_at: 1 }).where('id', '=', ids[2]!).execute();
    const ghost = '44444444-4444-4444-8444-444444444444';
    const got = await recipientAccessLoader(t.db)([...ids, ghost]);
    expect(got.get(ids[0]!)).toEqual({ key: Buffer.alloc(16, 7), unrestricted: true });
    expect(got.get(ids[1]!)).toEqual({ key: null, unrestricted: false });
    expect(got.has(ids[2]!)).toBe(false);
    expect(got.has(ghost)).toBe(false);
    expect((await recipientAccessLoader(t.db)([])).size).toBe(0);
  });
});
