/**
 * A mutex per key: `run(key, fn)` runs fn after every earlier fn for the same key settled.
 * libsignal has no locking of its own; every operation on one remote account goes through here.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();
  /** Since when each key's current holder has run, and how many wait behind it (diagnostics). */
  private readonly holders = new Map<string, { since: number; waiting: number }>();

  async run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    let h = this.holders.get(key);
    if (!h) this.holders.set(key, (h = { since: Date.now(), waiting: 0 }));
    h.waiting++;
    try {
      await prev;
      h.waiting--;
      h.since = Date.now();
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) {
        this.tails.delete(key);
        this.holders.delete(key);
      }
    }
  }

  get size(): number {
    return this.tails.size;
  }

  /** Keys held now: for how long and with how many callers waiting (a stuck send shows here). */
  held(now = Date.now()): Array<{ key: string; heldMs: number; waiting: number }> {
    return [...this.holders].map(([key, h]) => ({ key, heldMs: now - h.since, waiting: h.waiting }));
  }
}

/** Runs tasks one at a time in submission order; a failing task does not stop the queue. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  push<T>(fn: () => Promise<T> | T): Promise<T> {
    this.pending++;
    const run = this.tail.then(fn);
    this.tail = run.then(
      () => this.pending--,
      () => this.pending--,
    );
    return run;
  }

  /** Resolves when everything queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  get size(): number {
    return this.pending;
  }
}

/**
 * Runs `fn` for every item with at most `limit` running at once; rejects with the first
 * error once the running ones settled (none is left dangling).
 */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.error;
}
