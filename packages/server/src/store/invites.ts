import type { Executor } from '../db/schema.js';

export interface NewInvite {
  codeHash: Buffer;
  brandId: string;
  createdAt: number;
  expiresAt: number | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class InviteStore {
  async insert(ex: Executor, invites: readonly NewInvite[]): Promise<void> {
    // Chunked: SQLite caps bound parameters per statement.
    for (let i = 0; i < invites.length; i += 200) {
      await ex
        .insertInto('invite_codes')
        .values(
          invites.slice(i, i + 200).map((v) => ({
            code_hash: v.codeHash,
            brand_id: v.brandId,
            created_at: v.createdAt,
            expires_at: v.expiresAt,
            used_at: null,
          })),
        )
        .execute();
    }
  }

  /**
   * Marks the code used if it is unused and unexpired, and returns its brand. The
   * conditional UPDATE is the atomic step: of two concurrent redemptions only one
   * changes the row. used_at is kept to the day so it cannot be matched to the
   * creation time of the account it made.
   */
  async consume(ex: Executor, codeHash: Buffer, now: number): Promise<{ brandId: string } | undefined> {
    const row = await ex
      .updateTable('invite_codes')
      .set({ used_at: Math.floor(now / DAY_MS) * DAY_MS })
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .returning('brand_id')
      .executeTakeFirst();
    return row && { brandId: row.brand_id };
  }

  async get(ex: Executor, codeHash: Buffer) {
    return ex.selectFrom('invite_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
  }
}
