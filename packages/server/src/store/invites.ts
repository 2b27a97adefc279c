import type { CodeStatus, CodeType } from '@kluis/protocol';
import type { Selectable } from 'kysely';
import type { Executor, InviteCodesTable } from '../db/schema.js';

/** Invite and renewal codes share one table: both are single-use, hashed, tied to a plan. */
export interface NewInvite {
  codeHash: Buffer;
  brandId: string;
  createdAt: number;
  expiresAt: number | null;
  /** Public handle for listing and revoking; defaults to none for callers that need none. */
  id?: string;
  type?: CodeType;
  planId?: string | null;
  batchId?: string | null;
  source?: 'admin' | 'member';
}

export interface CodeRecord {
  id: string | null;
  brandId: string;
  type: CodeType;
  planId: string | null;
  batchId: string | null;
  source: 'admin' | 'member';
  createdAt: number;
  expiresAt: number | null;
  usedAt: number | null;
  revokedAt: number | null;
}

export interface CodeFilter {
  brandId: string;
  status?: CodeStatus;
  type?: CodeType;
  batchId?: string;
  limit: number;
  now: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class InviteStore {
  async insert(ex: Executor, invites: readonly NewInvite[]): Promise<void> {
    // Chunked: SQLite caps bound parameters per statement.
    for (let i = 0; i < invites.length; i += 100) {
      await ex
        .insertInto('invite_codes')
        .values(
          invites.slice(i, i + 100).map((v) => ({
            code_hash: v.codeHash,
            brand_id: v.brandId,
            created_at: v.createdAt,
            expires_at: v.expiresAt,
            used_at: null,
            id: v.id ?? null,
            type: v.type ?? 'invite',
            plan_id: v.planId ?? null,
            batch_id: v.batchId ?? null,
            source: v.source ?? 'admin',
            revoked_at: null,
          })),
        )
        .execute();
    }
  }

  /**
   * Marks the code used if it is of `type`, unused, unrevoked and unexpired, and returns
   * what it buys. The conditional UPDATE is the atomic step: of two concurrent
   * redemptions only one changes the row. used_at is kept to the day so it cannot be
   * matched to the creation time of the account it made.
   */
  async consume(
    ex: Executor,
    codeHash: Buffer,
    now: number,
    type: CodeType = 'invite',
  ): Promise<{ brandId: string; planId: string | null } | undefined> {
    const row = await ex
      .updateTable('invite_codes')
      .set({ used_at: Math.floor(now / DAY_MS) * DAY_MS })
      .where('code_hash', '=', codeHash)
      .where('type', '=', type)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .returning(['brand_id', 'plan_id'])
      .executeTakeFirst();
    return row && { brandId: row.brand_id, planId: row.plan_id };
  }

  async get(ex: Executor, codeHash: Buffer): Promise<CodeRecord | undefined> {
    const row = await ex.selectFrom('invite_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(ex: Executor, f: CodeFilter): Promise<CodeRecord[]> {
    let q = ex.selectFrom('invite_codes').selectAll().where('brand_id', '=', f.brandId);
    if (f.type) q = q.where('type', '=', f.type);
    if (f.batchId) q = q.where('batch_id', '=', f.batchId);
    if (f.status === 'used') q = q.where('used_at', 'is not', null);
    if (f.status === 'revoked') q = q.where('used_at', 'is', null).where('revoked_at', 'is not', null);
    if (f.status === 'expired') q = q.where('used_at', 'is', null).where('revoked_at', 'is', null).where('expires_at', '<=', f.now);
    if (f.status === 'unused') {
      q = q
        .where('used_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', f.now)]));
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id').limit(f.limit).execute();
    return rows.map(toRecord);
  }

  /** Revokes unused codes of one brand; returns how many changed. */
  async revoke(ex: Executor, brandId: string, by: { ids?: readonly string[]; batchId?: string; hashes?: readonly Buffer[] }, now: number): Promise<number> {
    let q = ex.updateTable('invite_codes').set({ revoked_at: now }).where('brand_id', '=', brandId).where('used_at', 'is', null).where('revoked_at', 'is', null);
    q = q.where((eb) => {
      const any = [];
      if (by.ids?.length) any.push(eb('id', 'in', [...by.ids]));
      if (by.batchId) any.push(eb('batch_id', '=', by.batchId));
      if (by.hashes?.length) any.push(eb('code_hash', 'in', [...by.hashes]));
      return eb.or(any);
    });
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Codes redeemed on or after `sinceDay` (used_at is day-rounded), per brand. */
  async usedSince(ex: Executor, sinceDay: number): Promise<Map<string, number>> {
    const rows = await ex
      .selectFrom('invite_codes')
      .select(['brand_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('used_at', '>=', sinceDay)
      .groupBy('brand_id')
      .execute();
    return new Map(rows.map((r) => [r.brand_id, Number(r.n)]));
  }
}

export function codeStatus(c: CodeRecord, now: number): CodeStatus {
  if (c.usedAt !== null) return 'used';
  if (c.revokedAt !== null) return 'revoked';
  if (c.expiresAt !== null && c.expiresAt <= now) return 'expired';
  return 'unused';
}

function toRecord(r: Selectable<InviteCodesTable>): CodeRecord {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    brandId: r.brand_id,
    type: r.type,
    planId: r.plan_id,
    batchId: r.batch_id,
    source: r.source,
    createdAt: Number(r.created_at),
    expiresAt: num(r.expires_at),
    usedAt: num(r.used_at),
    revokedAt: num(r.revoked_at),
  };
}
