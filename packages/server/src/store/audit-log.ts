import { randomBytes } from 'node:crypto';
import type { Executor } from '../db/schema.js';

export interface AuditRecord {
  id: number;
  at: number;
  adminId: string;
  adminName: string;
  role: string;
  brandId: string | null;
  action: string;
  target: string | null;
  detail: string | null;
}

/** Append-only: who did what, when. Callers pass no user content and no IP addresses. */
export class AuditLogStore {
  async append(ex: Executor, e: Omit<AuditRecord, 'id'>): Promise<void> {
    await ex
      .insertInto('audit_log')
      .values({ at: e.at, admin_id: e.adminId, admin_name: e.adminName, role: e.role, brand_id: e.brandId, action: e.action, target: e.target, detail: e.detail })
      .execute();
  }

  /**
   * Once an account is deleted or purged, its entries keep what was done but no longer
   * say to whom: its username (and id) become one random pseudonym, the same in all of its
   * entries so the history still reads as one account's. Returns the pseudonym.
   */
  async pseudonymiseAccount(ex: Executor, account: { username: string; accountId: string }): Promise<string> {
    const pseudonym = newAuditPseudonym();
    await ex
      .updateTable('audit_log')
      .set({ target: pseudonym })
      .where('action', 'like', `${ACCOUNT_ACTION_PREFIX}%`)
      .where('target', 'in', [account.username, account.accountId])
      .execute();
    return pseudonym;
  }

  /** Newest first; `brandId` restricts to one brand's entries (what a brand admin sees). */
  async list(ex: Executor, f: { brandId?: string; before?: number; limit: number }): Promise<AuditRecord[]> {
    let q = ex.selectFrom('audit_log').selectAll();
    if (f.brandId !== undefined) q = q.where('brand_id', '=', f.brandId);
    if (f.before !== undefined) q = q.where('id', '<', f.before);
    const rows = await q.orderBy('id', 'desc').limit(f.limit).execute();
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      adminId: r.admin_id,
      adminName: r.admin_name,
      role: r.role,
      brandId: r.brand_id,
      action: r.action,
      target: r.target,
      detail: r.detail,
    }));
  }
}

/** Entries whose target is an account (its username): account.suspend, account.delete, … */
export const ACCOUNT_ACTION_PREFIX = 'account.';

/**
 * Random, not derived from the account: a hash of the id or name could be recomputed by
 * anyone who still has them. '-' is not allowed in usernames, so it reads as no one's.
 */
export function newAuditPseudonym(): string {
  return `deleted-${randomBytes(8).toString('hex')}`;
}
