import { createHmac, randomBytes } from 'node:crypto';
import { ErrorCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import { DEFAULT_LIMITS, type LimitName, type LimitRate, type LimitRule, type LimitRules } from './rules.js';

/** Exact buckets kept per kind (~130 bytes each); past it new keys share the kind's sketch. */
export const DEFAULT_MAX_KEYS = 50_000;
/** How often full buckets are dropped while any exist (the timer stops when none are left). */
const SWEEP_MS = 30_000;
/** A full table sweeps itself at most this often to make room (O(table) each time). */
const FULL_SWEEP_MS = 1_000;
/** Oldest buckets looked at for a refilled one before a new key goes to the sketch. */
const EVICT_PROBES = 8;
/** Truncated HMAC length: 128 bits, so two keys never share a bucket in practice. */
const KEY_BYTES = 16;
/** Overflow sketch: DEPTH rows of WIDTH shared buckets per kind (created on first use). */
const SKETCH_WIDTH = 2048;
const SKETCH_DEPTH = 4;

interface Bucket {
  tokens: number;
  /** Clock reading `tokens` was computed at. */
  at: number;
}

/**
 * Where one key's tokens are: its own bucket, or (table full of buckets still refilling)
 * its cells in the kind's sketch.
 */
interface Slot {
  tokens: number;
  take(count: number): void;
}

/**
 * One limit kind. Exact buckets in LRU order; only a refilled bucket (the same as no
 * bucket) is ever dropped, so no flood of other keys can reset a drained one. When the
 * table is full of buckets still refilling, new keys go to a count-min sketch of shared
 * buckets: a key's tokens there are the most any of its cells has, and every cell it
 * touches pays, so sharing a cell can only refuse sooner, never later, than the key's own
 * bucket would. Memory: at most maxKeys buckets plus one fixed-size sketch per kind.
 */
class KindTable {
  readonly buckets = new Map<string, Bucket>();
  sketch: { tokens: Float64Array; at: Float64Array } | undefined;
  global: Bucket | undefined;
  lastFullSweep = Number.NEGATIVE_INFINITY;
  /** Takes that found the table full and went to the sketch (metrics). */
  overflowed = 0;

  constructor(readonly rule: LimitRule) {}
}

export function rateLimited(rule: LimitRule | LimitRate, waitMs: number): ApiError {
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new ApiError(ErrorCode.RateLimited, `too many ${rule.what}; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
}

export interface RateLimiterOptions {
  clock: () => number;
  /** false: every call is a no-op (`--rate-limits off`, the bench). */
  enabled?: boolean;
  rules?: Partial<LimitRules>;
  /** Exact buckets per kind (`--rate-limit-keys`); past it new keys share the kind's sketch. */
  maxKeys?: number;
}

/** Counts for metrics: buckets held and takes that overflowed into a sketch, per kind. */
export interface RateLimiterStats {
  buckets: number;
  overflowed: number;
}

/**
 * In-memory token buckets, per node. Nothing identifying is ever stored: a bucket's key is
 * HMAC-SHA256(a random secret made at construction, the action and its ids), truncated;
 * the secret lives only in this object, so the keys mean nothing after the process ends
 * and cannot be reversed from a heap dump without trying candidate ids. A bucket that
 * has refilled is the same as no bucket, so it is dropped: nothing outlives the time its
 * bucket takes to refill (minutes) plus one sweep. Nothing here is logged or written.
 *
 * Each kind has its own table (a flood of one kind cannot touch another's buckets), an
 * overflow sketch, and optionally a kind-wide bucket (`rule.global`) that every take of
 * the kind also pays: that bounds a flood spread over many keys.
 */
export class RateLimiter {
  private readonly secret = randomBytes(32);
  private readonly tables = new Map<LimitName, KindTable>();
  private readonly rules: LimitRules;
  private readonly clock: () => number;
  private readonly maxKeys: number;
  readonly enabled: boolean;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: RateLimiterOptions) {
    this.clock = opts.clock;
    this.enabled = opts.enabled ?? true;
    this.rules = { ...DEFAULT_LIMITS, ...opts.rules } as LimitRules;
    this.maxKeys = Math.max(1, opts.maxKeys ?? DEFAULT_MAX_KEYS);
  }

  /** Takes one token, or throws 429 RATE_LIMITED with the wait (Retry-After). */
  take(name: LimitName, ...ids: string[]): void {
    if (!this.enabled) return;
    const refusal = this.takeAll(name, [ids]);
    if (refusal) throw refusal;
  }

  /**
   * One token from the bucket of each id (e.g. every destination of a group send), all
   * or none: a refused request costs no bucket anything.
   */
  takeEach(name: LimitName, ids: readonly string[]): void {
    if (!this.enabled) return;
    const refusal = this.takeAll(
      name,
      [...new Set(ids)].map((id) => [id]),
    );
    if (refusal) throw refusal;
  }

  /** Takes one token if there is one: 0, else the milliseconds until there is. */
  tryTake(name: LimitName, ...ids: string[]): number {
    if (!this.enabled) return 0;
    const refusal = this.takeAll(name, [ids]);
    return refusal ? refusal.waitMs : 0;
  }

  /**
   * Takes a token from each id's bucket that has one (an attempt that already failed is
   * charged everywhere it can be); a 429 to answer instead if any bucket was empty.
   */
  chargeEach(name: LimitName, ids: readonly string[]): ApiError | undefined {
    let refusal: Refusal | undefined;
    for (const id of new Set(ids)) {
      const r = this.enabled ? this.takeAll(name, [[id]]) : undefined;
      if (r && (!refusal || r.waitMs > refusal.waitMs)) refusal = r;
    }
    return refusal;
  }

  /** Gives back a token taken for an attempt that turned out fine (capped at the burst). */
  refund(name: LimitName, ...ids: string[]): void {
    if (!this.enabled) return;
    const table = this.tables.get(name);
    if (!table) return;
    const b = table.buckets.get(this.keyOf(name, ids).key);
    const rule = table.rule;
    if (b) b.tokens = Math.min(rule.burst, b.tokens + 1);
    if (table.global && rule.global) table.global.tokens = Math.min(rule.global.burst, table.global.tokens + 1);
  }

  /**
   * Takes `amount` tokens from one key's bucket (a size in bytes, say), all or none, or
   * throws 429 with the wait until that many are back. An amount above the burst costs the
   * burst: one request bigger than the whole bucket still passes once it is full. The
   * kind's `global` bucket is not consulted (amount kinds have none).
   */
  takeAmount(name: LimitName, amount: number, ...ids: string[]): void {
    if (!this.enabled) return;
    const now = this.clock();
    const table = this.table(name);
    const rule = table.rule;
    const cost = Math.min(Math.max(0, amount), rule.burst);
    const slot = this.slot(table, name, ids, now);
    if (slot.tokens < cost) throw new Refusal(rule, waitFor(rule, slot.tokens - cost + 1));
    slot.take(cost);
    this.startTimer();
  }

  /** Gives back `amount` tokens taken by takeAmount for a request that was refused later on. */
  refundAmount(name: LimitName, amount: number, ...ids: string[]): void {
    if (!this.enabled) return;
    const table = this.tables.get(name);
    const b = table?.buckets.get(this.keyOf(name, ids).key);
    if (table && b) b.tokens = Math.min(table.rule.burst, b.tokens + Math.min(Math.max(0, amount), table.rule.burst));
  }

  /** Exact buckets held now, all kinds (tests and metrics). */
  get size(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.buckets.size;
    return n;
  }

  /** Buckets and overflows per kind that has been used (metrics). */
  stats(): Partial<Record<LimitName, RateLimiterStats>> {
    const out: Partial<Record<LimitName, RateLimiterStats>> = {};
    for (const [name, t] of this.tables) out[name] = { buckets: t.buckets.size, overflowed: t.overflowed };
    return out;
  }

  /** The stored keys (tests check they are digests, not ids). */
  storedKeys(): string[] {
    return [...this.tables.values()].flatMap((t) => [...t.buckets.keys()]);
  }

  /** Drops every full bucket (and fully refilled sketches) now; also runs on a timer. */
  sweep(): void {
    const now = this.clock();
    for (const table of this.tables.values()) this.sweepTable(table, now);
    if (this.size === 0 && [...this.tables.values()].every((t) => !t.sketch && !t.global)) this.stopTimer();
  }

  /** Forgets everything and stops the sweep timer. */
  close(): void {
    this.tables.clear();
    this.stopTimer();
  }

  /** All or none: one token from each key's slot and, per key, one from the kind-wide bucket. */
  private takeAll(name: LimitName, keys: readonly (readonly string[])[]): Refusal | undefined {
    const now = this.clock();
    const table = this.table(name);
    const rule = table.rule;
    const slots = keys.map((ids) => this.slot(table, name, ids, now));
    let wait = 0;
    for (const s of slots) if (s.tokens < 1) wait = Math.max(wait, waitFor(rule, s.tokens));
    if (wait > 0) return new Refusal(rule, wait);
    let global: Bucket | undefined;
    if (rule.global) {
      global = table.global ??= { tokens: rule.global.burst, at: now };
      refill(global, rule.global, now);
      if (global.tokens < slots.length) return new Refusal(rule.global, waitFor(rule.global, global.tokens - slots.length + 1));
    }
    for (const s of slots) s.take(1);
    if (global) global.tokens -= slots.length;
    this.startTimer();
    return undefined;
  }

  private table(name: LimitName): KindTable {
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = new KindTable(this.rules[name])));
    return t;
  }

  private keyOf(name: LimitName, ids: readonly string[]): { key: string; cells: Buffer } {
    const h = createHmac('sha256', this.secret);
    h.update(name);
    for (const id of ids) h.update('\0').update(id);
    const digest = h.digest();
    return { key: digest.subarray(0, KEY_BYTES).toString('base64url'), cells: digest.subarray(KEY_BYTES) };
  }

  /** The key's bucket brought up to `now` (marked most recently used), or its sketch cells. */
  private slot(table: KindTable, name: LimitName, ids: readonly string[], now: number): Slot {
    const { key, cells } = this.keyOf(name, ids);
    const rule = table.rule;
    const found = table.buckets.get(key);
    if (found) {
      // Re-inserted, so the Map's order is least recently used first.
      table.buckets.delete(key);
      table.buckets.set(key, found);
      refill(found, rule, now);
      return bucketSlot(found);
    }
    if (table.buckets.size >= this.maxKeys && !this.makeRoom(table, now)) {
      table.overflowed++;
      return this.sketchSlot(table, cells, now);
    }
    // A key that was in the sketch keeps what it had there (never more than its cells).
    const tokens = table.sketch ? Math.min(rule.burst, this.sketchSlot(table, cells, now).tokens) : rule.burst;
    const b: Bucket = { tokens, at: now };
    table.buckets.set(key, b);
    return bucketSlot(b);
  }

  /** Frees one place by dropping a refilled bucket; false if every bucket is still refilling. */
  private makeRoom(table: KindTable, now: number): boolean {
    let probes = 0;
    for (const [key, b] of table.buckets) {
      if (refilledTokens(b, table.rule, now) >= table.rule.burst) {
        table.buckets.delete(key);
        return true;
      }
      if (++probes >= EVICT_PROBES) break;
    }
    if (now - table.lastFullSweep < FULL_SWEEP_MS) return false;
    table.lastFullSweep = now;
    this.sweepTable(table, now);
    return table.buckets.size < this.maxKeys;
  }

  private sketchSlot(table: KindTable, cells: Buffer, now: number): Slot {
    const rule = table.rule;
    const sketch = (table.sketch ??= {
      tokens: new Float64Array(SKETCH_WIDTH * SKETCH_DEPTH).fill(rule.burst),
      at: new Float64Array(SKETCH_WIDTH * SKETCH_DEPTH).fill(now),
    });
    const index: number[] = [];
    let tokens = Number.NEGATIVE_INFINITY;
    for (let row = 0; row < SKETCH_DEPTH; row++) {
      const i = row * SKETCH_WIDTH + (cells.readUInt32BE(row * 4) % SKETCH_WIDTH);
      const cell = { tokens: sketch.tokens[i]!, at: sketch.at[i]! };
      refill(cell, rule, now);
      sketch.tokens[i] = cell.tokens;
      sketch.at[i] = cell.at;
      index.push(i);
      tokens = Math.max(tokens, cell.tokens);
    }
    return {
      tokens,
      take(count) {
        // Floored at minus one burst: a cell others drained recovers within two refills.
        for (const i of index) sketch.tokens[i] = Math.max(-rule.burst, sketch.tokens[i]! - count);
      },
    };
  }

  private sweepTable(table: KindTable, now: number): void {
    const rule = table.rule;
    for (const [key, b] of table.buckets) if (refilledTokens(b, rule, now) >= rule.burst) table.buckets.delete(key);
    if (table.sketch) {
      const { tokens, at } = table.sketch;
      let full = true;
      for (let i = 0; i < tokens.length && full; i++) if (refilledTokens({ tokens: tokens[i]!, at: at[i]! }, rule, now) < rule.burst) full = false;
      if (full) table.sketch = undefined;
    }
    if (table.global && rule.global && refilledTokens(table.global, rule.global, now) >= rule.global.burst) table.global = undefined;
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** A refusal with its wait; an ApiError so callers can throw it as is. */
class Refusal extends ApiError {
  constructor(
    rule: LimitRule | LimitRate,
    readonly waitMs: number,
  ) {
    const e = rateLimited(rule, waitMs);
    super(e.code, e.message, e.extra);
  }
}

function bucketSlot(b: Bucket): Slot {
  return {
    get tokens() {
      return b.tokens;
    },
    take(count) {
      b.tokens -= count;
    },
  };
}

function refilledTokens(b: Bucket, rate: LimitRate, now: number): number {
  return Math.min(rate.burst, b.tokens + Math.max(0, now - b.at) * (rate.perWindow / rate.windowMs));
}

/** Brings `b` up to `now`; a clock that went back refills nothing until it passes `at` again. */
function refill(b: Bucket, rate: LimitRate, now: number): void {
  b.tokens = refilledTokens(b, rate, now);
  b.at = Math.max(b.at, now);
}

/** Milliseconds until `tokens` reaches 1. */
function waitFor(rate: LimitRate, tokens: number): number {
  return Math.ceil(((1 - tokens) * rate.windowMs) / rate.perWindow);
}
