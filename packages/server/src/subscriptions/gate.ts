import { ErrorCode } from '@kluis/protocol';
import type { Db } from '../db/schema.js';
import { ApiError } from '../errors.js';
import type { SubscriptionRow, SubscriptionStore } from '../store/accounts.js';
import { accountState, graceEndsAt, isoDay } from './periods.js';

/** How long a looked-up subscription is trusted; renewals and suspensions on this node call forget(). */
const CACHE_MS = 30_000;
const CACHE_MAX = 100_000;

export const RENEW_HINT = 'renew with a renewal code: `kluis renew CODE` (or Client.renew(code))';

/**
 * Decides whether an account may send and may hold a socket. The facts are cached per
 * account, so the send path pays one query per account per half minute, not per message;
 * state follows from the facts and the clock, so time passing needs no refresh.
 */
export class SubscriptionGate {
  private readonly cache = new Map<string, { row: SubscriptionRow | undefined; at: number }>();

  constructor(
    private readonly db: Db,
    private readonly subscriptions: SubscriptionStore,
    private readonly clock: () => number,
  ) {}

  /** A fresh cache entry, or 'miss'. */
  private cached(accountId: string): SubscriptionRow | undefined | 'miss' {
    const now = this.clock();
    const hit = this.cache.get(accountId);
    return hit && now - hit.at < CACHE_MS && now >= hit.at ? hit.row : 'miss';
  }

  private async facts(accountId: string): Promise<SubscriptionRow | undefined> {
    const hit = this.cached(accountId);
    if (hit !== 'miss') return hit;
    const now = this.clock();
    const row = await this.subscriptions.get(this.db, accountId);
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(accountId, { row, at: now });
    return row;
  }

  forget(accountId: string): void {
    this.cache.delete(accountId);
  }

  /**
   * Grace and suspension both stop sending; the message names the date and the way out.
   * Synchronous on a cache hit (returns undefined or throws), so a send reaches the group
   * commit in the same tick as before: a graceful shutdown still answers every accepted send.
   */
  checkSend(accountId: string): Promise<void> | undefined {
    const hit = this.cached(accountId);
    if (hit === 'miss') return this.facts(accountId).then((row) => this.decideSend(row));
    this.decideSend(hit);
    return undefined;
  }

  async assertCanSend(accountId: string): Promise<void> {
    await this.checkSend(accountId);
  }

  private decideSend(row: SubscriptionRow | undefined): void {
    if (!row) return; // the device auth already vouched for it; a deleted account fails later
    const now = this.clock();
    const state = accountState(row, row.graceDays, now);
    if (state === 'active') return;
    if (state === 'grace') {
      throw graceError(row, `your subscription ended on ${isoDay(row.paidUntil!)}: you can still receive messages until ${isoDay(graceEndsAt(row.paidUntil, row.graceDays)!)}, but not send`);
    }
    throw suspendedError(row, now);
  }

  /**
   * Sockets are refused once suspended (past grace, or by an admin); so are prekey uploads
   * and re-registrations (`action` names what was refused), which would keep a suspended
   * account's devices reachable and renewed without a socket. In grace they still work:
   * the account still receives, and others need its keys to reach it.
   */
  async assertCanConnect(accountId: string, action?: string): Promise<void> {
    const row = await this.facts(accountId);
    if (!row) return;
    const now = this.clock();
    const state = accountState(row, row.graceDays, now);
    if (state === 'suspended' || state === 'purged') throw suspendedError(row, now, action);
  }

  /**
   * Adding a device (making a link code, provisioning it, requesting and completing the
   * link) needs a paid, unsuspended account: in grace the account may read what it has,
   * not grow. 402 in grace, 403 when suspended, each with the way out.
   */
  async assertCanLink(accountId: string): Promise<void> {
    const row = await this.facts(accountId);
    if (!row) return;
    const now = this.clock();
    const state = accountState(row, row.graceDays, now);
    if (state === 'active') return;
    if (state === 'grace') throw graceError(row, `devices cannot be linked: your subscription ended on ${isoDay(row.paidUntil!)}`);
    throw suspendedError(row, now, 'devices cannot be linked');
  }
}

/** 402 in grace: what was refused, and how to renew. */
function graceError(row: SubscriptionRow, sentence: string): ApiError {
  return new ApiError(ErrorCode.SubscriptionExpired, `${sentence}; ${RENEW_HINT}`, {
    paidUntil: row.paidUntil,
    graceEndsAt: graceEndsAt(row.paidUntil, row.graceDays),
  });
}

function suspendedError(row: SubscriptionRow, _now: number, action?: string): ApiError {
  const prefix = action ? `${action}: ` : '';
  if (row.purgedAt !== null) {
    return new ApiError(ErrorCode.AccountSuspended, `${prefix}this account was suspended and its keys and messages have been deleted; register again with a new invite`);
  }
  if (row.suspendedAt !== null) {
    return new ApiError(ErrorCode.AccountSuspended, `${prefix}this account has been suspended by the service operator; contact your reseller`);
  }
  return new ApiError(
    ErrorCode.AccountSuspended,
    `${prefix}this account is suspended: the subscription ended on ${isoDay(row.paidUntil!)} and the grace period ended on ${isoDay(graceEndsAt(row.paidUntil, row.graceDays)!)}; ${RENEW_HINT}`,
    { paidUntil: row.paidUntil, graceEndsAt: graceEndsAt(row.paidUntil, row.graceDays) },
  );
}
