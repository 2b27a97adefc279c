import type { AdminRole } from '@kluis/protocol';
import type { AdminTokensTable, Executor } from '../db/schema.js';

export interface AdminToken {
  id: string;
  name: string;
  role: AdminRole;
  brandId: string | null;
  createdAt: number;
  revokedAt: number | null;
}

export class AdminTokenStore {
  async insert(ex: Executor, t: AdminToken & { tokenHash: Buffer }): Promise<void> {
    await ex
      .insertInto('admin_tokens')
      .values({ id: t.id, name: t.name, role: t.role, brand_id: t.brandId, token_hash: t.tokenHash, created_at: t.createdAt, revoked_at: t.revokedAt })
      .execute();
  }

  /** The live token whose hash this is; revoked tokens are as good as unknown. */
  async byHash(ex: Executor, tokenHash: Buffer): Promise<AdminToken | undefined> {
    const row = await ex.selectFrom('admin_tokens').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
    return row && toToken(row);
  }

  async get(ex: Executor, id: string): Promise<AdminToken | undefined> {
    const row = await ex.selectFrom('admin_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toToken(row);
  }

  async list(ex: Executor): Promise<AdminToken[]> {
    return (await ex.selectFrom('admin_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(toToken);
  }

  async revoke(ex: Executor, id: string, now: number): Promise<boolean> {
    const r = await ex.updateTable('admin_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}

function toToken(r: AdminTokensTable): AdminToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    brandId: r.brand_id,
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}
