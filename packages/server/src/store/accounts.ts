import { sql } from 'kysely';
import type { Executor } from '../db/schema.js';
import { dayEnd, dayStart } from './coarse-time.js';

export interface Account {
  id: string;
  username: string;
  brandId: string;
  identityKey: Buffer;
  /** Stored as the day (midnight UTC) it falls on. */
  createdAt: number;
  /** End of the paid period (null: no end); set from the invite's plan at registration; stored as the last millisecond of its UTC day. */
  paidUntil?: number | null;
}

/** What the subscription checks need, in one row. */
export interface SubscriptionRow {
  accountId: string;
  brandId: string;
  paidUntil: number | null;
  suspendedAt: number | null;
  purgedAt: number | null;
  memberInvitesUsed: number;
  graceDays: number;
}

/** An account as an admin sees it: no contacts, groups or message metadata exist here to leak. */
export interface AdminAccountRow extends SubscriptionRow {
  username: string;
  createdAt: number;
  deviceCount: number;
  lastSeenDay: number | null;
}

export class AccountStore {
  async insert(ex: Executor, account: Account): Promise<void> {
    await ex
      .insertInto('accounts')
      .values({
        id: account.id,
        username: account.username,
        brand_id: account.brandId,
        identity_key: account.identityKey,
        created_at: dayStart(account.createdAt),
        paid_until: account.paidUntil === undefined || account.paidUntil === null ? null : dayEnd(account.paidUntil),
        suspended_at: null,
        purged_at: null,
      })
      .execute();
  }

  async byId(ex: Executor, id: string): Promise<Account | undefined> {
    const row = await ex.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAccount(row);
  }

  /** `username` must already be normalised. */
  async byUsername(ex: Executor, username: string): Promise<Account | undefined> {
    const row = await ex.selectFrom('accounts').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toAccount(row);
  }

  async setIdentityKey(ex: Executor, id: string, identityKey: Buffer): Promise<void> {
    await ex.updateTable('accounts').set({ identity_key: identityKey }).where('id', '=', id).execute();
  }
}

/** Subscription and admin-side queries (issue 3); kept apart from the hot paths above. */
export class SubscriptionStore {
  async get(ex: Executor, accountId: string): Promise<SubscriptionRow | undefined> {
    const row = await ex
      .selectFrom('accounts')
      .innerJoin('brands', 'brands.id', 'accounts.brand_id')
      .select(['accounts.id', 'accounts.brand_id', 'accounts.paid_until', 'accounts.suspended_at', 'accounts.purged_at', 'accounts.member_invites_used', 'brands.grace_days'])
      .where('accounts.id', '=', accountId)
      .executeTakeFirst();
    return row && toSubscription(row);
  }

  async setPaidUntil(ex: Executor, accountId: string, paidUntil: number): Promise<void> {
    await ex.updateTable('accounts').set({ paid_until: dayEnd(paidUntil) }).where('id', '=', accountId).execute();
  }

  async setSuspended(ex: Executor, accountId: string, at: number | null): Promise<void> {
    // To the day, rounded up (retention counts from it, so nobody gets less than promised): a
    // millisecond would match the audit entry of the suspension and undo its pseudonym once purged.
    await ex.updateTable('accounts').set({ suspended_at: at === null ? null : dayEnd(at) }).where('id', '=', accountId).execute();
  }

  async markPurged(ex: Executor, accountId: string, at: number): Promise<void> {
    await ex.updateTable('accounts').set({ purged_at: dayStart(at) }).where('id', '=', accountId).execute();
  }

  /** Takes one member invite from the quota; false when it is used up (atomic, like code redemption). */
  async takeMemberInvite(ex: Executor, accountId: string, quota: number): Promise<boolean> {
    const r = await ex
      .updateTable('accounts')
      .set((eb) => ({ member_invites_used: eb('member_invites_used', '+', 1) }))
      .where('id', '=', accountId)
      .where('member_invites_used', '<', quota)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Unpurged accounts of a brand whose keys and queues are due for deletion: lapsed
   * before `lapsedBefore` (paid-until + grace + retention) or suspended by an admin
   * before `suspendedBefore`.
   */
  async dueForPurge(ex: Executor, brandId: string, lapsedBefore: number, suspendedBefore: number, limit: number): Promise<string[]> {
    const rows = await ex
      .selectFrom('accounts')
      .select('id')
      .where('brand_id', '=', brandId)
      .where('purged_at', 'is', null)
      .where((eb) => eb.or([eb('paid_until', '<', lapsedBefore), eb('suspended_at', '<', suspendedBefore)]))
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  async delete(ex: Executor, accountId: string): Promise<void> {
    await ex.deleteFrom('accounts').where('id', '=', accountId).execute();
  }

  /** Admin listing; `usernamePrefix` must be normalised (lowercase). */
  async adminList(ex: Executor, f: { brandId?: string; usernamePrefix?: string; accountId?: string; limit: number }): Promise<AdminAccountRow[]> {
    let q = ex
      .selectFrom('accounts')
      .innerJoin('brands', 'brands.id', 'accounts.brand_id')
      .leftJoin('devices', 'devices.account_id', 'accounts.id')
      .select((eb) => [
        'accounts.id',
        'accounts.username',
        'accounts.brand_id',
        'accounts.created_at',
        'accounts.paid_until',
        'accounts.suspended_at',
        'accounts.purged_at',
        'accounts.member_invites_used',
        'brands.grace_days',
        eb.fn.count<number>('devices.device_id').as('device_count'),
        eb.fn.max('devices.last_seen_day').as('last_seen_day'),
      ])
      .groupBy(['accounts.id', 'accounts.username', 'accounts.brand_id', 'accounts.created_at', 'accounts.paid_until', 'accounts.suspended_at', 'accounts.purged_at', 'accounts.member_invites_used', 'brands.grace_days']);
    if (f.brandId !== undefined) q = q.where('accounts.brand_id', '=', f.brandId);
    if (f.accountId !== undefined) q = q.where('accounts.id', '=', f.accountId);
    // LIKE with an explicit escape: '_' is a LIKE wildcard and allowed in usernames.
    if (f.usernamePrefix) {
      const pattern = f.usernamePrefix.replace(/[!%_]/g, (c) => '!' + c) + '%';
      q = q.where(sql<boolean>`${sql.ref('accounts.username')} like ${pattern} escape '!'`);
    }
    const rows = await q.orderBy('accounts.username').limit(f.limit).execute();
    return rows.map((r) => ({
      ...toSubscription(r),
      username: r.username,
      createdAt: Number(r.created_at),
      deviceCount: Number(r.device_count),
      lastSeenDay: r.last_seen_day === null || r.last_seen_day === undefined ? null : Number(r.last_seen_day),
    }));
  }
}

function toSubscription(r: {
  id: string;
  brand_id: string;
  paid_until: number | null;
  suspended_at: number | null;
  purged_at: number | null;
  member_invites_used: number;
  grace_days: number;
}): SubscriptionRow {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    accountId: r.id,
    brandId: r.brand_id,
    paidUntil: num(r.paid_until),
    suspendedAt: num(r.suspended_at),
    purgedAt: num(r.purged_at),
    memberInvitesUsed: Number(r.member_invites_used),
    graceDays: Number(r.grace_days),
  };
}

function toAccount(row: { id: string; username: string; brand_id: string; identity_key: Buffer; created_at: number }): Account {
  return { id: row.id, username: row.username, brandId: row.brand_id, identityKey: row.identity_key, createdAt: Number(row.created_at) };
}
