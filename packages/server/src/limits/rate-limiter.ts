import { createHmac, randomBytes } from 'node:crypto';
import { ErrorCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import { DEFAULT_LIMITS, type LimitName, type LimitRule, type LimitRules } from './rules.js';

/** Buckets kept at most (least recently used go first); ~100 bytes each. */
export const DEFAULT_MAX_KEYS = 100_000;
/** How often full buckets are dropped while any exist (the timer stops when none are left). */
const SWEEP_MS = 30_000;
/** Truncated HMAC length: 128 bits, so two keys never share a bucket in practice. */
const KEY_BYTES = 16;

interface Bucket {
  rule: LimitRule;
  tokens: number;
  /** Clock reading `tokens` was computed at. */
  at: number;
}

export function rateLimited(rule: LimitRule, waitMs: number): ApiError {
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new ApiError(ErrorCode.RateLimited, `too many ${rule.what}; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
}

export interface RateLimiterOptions {
  clock: () => number;
  /** false: every call is a no-op (`--rate-limits off`, the bench). */
  enabled?: boolean;
  rules?: Partial<LimitRules>;
  maxKeys?: number;
}

/**
 * In-memory token buckets, per node. Nothing identifying is ever stored: a bucket's key is
 * HMAC-SHA256(a random secret made at construction, the action and its ids), truncated;
 * the secret lives only in this object, so the keys mean nothing after the process ends
 * and cannot be reversed from a heap dump without trying candidate ids. A bucket that
 * has refilled is the same as no bucket, so it is dropped: nothing outlives the time its
 * bucket takes to refill (minutes) plus one sweep. Nothing here is logged or written.
 */
export class RateLimiter {
  private readonly secret = randomBytes(32);
  private readonly buckets = new Map<string, Bucket>();
  private readonly rules: LimitRules;
  private readonly clock: () => number;
  private readonly maxKeys: number;
  readonly enabled: boolean;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: RateLimiterOptions) {
    this.clock = opts.clock;
    this.enabled = opts.enabled ?? true;
    this.rules = { ...DEFAULT_LIMITS, ...opts.rules };
    this.maxKeys = opts.maxKeys ?? DEFAULT_MAX_KEYS;
  }

  /** Takes one token, or throws 429 RATE_LIMITED with the wait (Retry-After). */
  take(name: LimitName, ...ids: string[]): void {
    const wait = this.tryTake(name, ...ids);
    if (wait > 0) throw rateLimited(this.rules[name], wait);
  }

  /**
   * One token from the bucket of each id (e.g. every destination of a group send), all
   * or none: a refused request costs no bucket anything.
   */
  takeEach(name: LimitName, ids: readonly string[]): void {
    if (!this.enabled) return;
    const now = this.clock();
    const found = [...new Set(ids)].map((id) => this.bucket(name, [id], now));
    let wait = 0;
    for (const b of found) if (b.tokens < 1) wait = Math.max(wait, this.waitFor(b));
    if (wait > 0) throw rateLimited(this.rules[name], wait);
    for (const b of found) b.tokens -= 1;
  }

  /** Takes one token if there is one: 0, else the milliseconds until there is. */
  tryTake(name: LimitName, ...ids: string[]): number {
    if (!this.enabled) return 0;
    const b = this.bucket(name, ids, this.clock());
    if (b.tokens < 1) return this.waitFor(b);
    b.tokens -= 1;
    return 0;
  }

  /**
   * Takes a token from each id's bucket that has one (an attempt that already failed is
   * charged everywhere it can be); a 429 to answer instead if any bucket was empty.
   */
  chargeEach(name: LimitName, ids: readonly string[]): ApiError | undefined {
    let wait = 0;
    for (const id of new Set(ids)) wait = Math.max(wait, this.tryTake(name, id));
    return wait > 0 ? rateLimited(this.rules[name], wait) : undefined;
  }

  /** Gives back a token taken for an attempt that turned out fine (capped at the burst). */
  refund(name: LimitName, ...ids: string[]): void {
    if (!this.enabled) return;
    const b = this.buckets.get(this.keyOf(name, ids));
    if (b) b.tokens = Math.min(b.rule.burst, b.tokens + 1);
  }

  /** Buckets held now (tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** The stored keys (tests check they are digests, not ids). */
  storedKeys(): string[] {
    return [...this.buckets.keys()];
  }

  /** Drops every full bucket now (also runs on a timer while any bucket exists). */
  sweep(): void {
    const now = this.clock();
    for (const [key, b] of this.buckets) if (this.refilled(b, now) >= b.rule.burst) this.buckets.delete(key);
    if (this.buckets.size === 0) this.stopTimer();
  }

  /** Forgets everything and stops the sweep timer. */
  close(): void {
    this.buckets.clear();
    this.stopTimer();
  }

  private keyOf(name: LimitName, ids: readonly string[]): string {
    const h = createHmac('sha256', this.secret);
    h.update(name);
    for (const id of ids) h.update('\0').update(id);
    return h.digest().subarray(0, KEY_BYTES).toString('base64url');
  }

  private refilled(b: Bucket, now: number): number {
    const rate = b.rule.perWindow / b.rule.windowMs;
    return Math.min(b.rule.burst, b.tokens + Math.max(0, now - b.at) * rate);
  }

  private waitFor(b: Bucket): number {
    return Math.ceil(((1 - b.tokens) * b.rule.windowMs) / b.rule.perWindow);
  }

  /** The bucket brought up to `now`, marked most recently used; created full if absent. */
  private bucket(name: LimitName, ids: readonly string[], now: number): Bucket {
    const key = this.keyOf(name, ids);
    const rule = this.rules[name];
    const found = this.buckets.get(key);
    let b: Bucket;
    if (found) {
      // Re-inserted, so the Map's order is least recently used first.
      this.buckets.delete(key);
      // A clock that went back refills nothing until it passes `at` again.
      b = { rule, tokens: this.refilled(found, now), at: Math.max(found.at, now) };
    } else {
      b = { rule, tokens: rule.burst, at: now };
    }
    this.buckets.set(key, b);
    // Over the bound: the least recently used goes (O(1); full ones also go at the sweep).
    // Evicting a drained bucket forgives it, so the bound is set far above normal use.
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    this.startTimer();
    return b;
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
