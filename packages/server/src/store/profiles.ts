import type { Executor } from '../db/schema.js';
import { dayStart } from './coarse-time.js';

export interface ProfileRow {
  accountId: string;
  version: string;
  ciphertext: Buffer;
  /** Stored as the day: a millisecond would date each profile-key rotation, and so each block. */
  updatedAt: number;
}

/** The `profiles` table: one encrypted profile per account, replaced whole on each write. */
export class ProfileStore {
  async put(ex: Executor, row: ProfileRow): Promise<void> {
    const updatedAt = dayStart(row.updatedAt);
    await ex
      .insertInto('profiles')
      .values({ account_id: row.accountId, version: row.version, ciphertext: row.ciphertext, updated_at: updatedAt })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ version: row.version, ciphertext: row.ciphertext, updated_at: updatedAt }))
      .execute();
  }

  async get(ex: Executor, accountId: string): Promise<ProfileRow | undefined> {
    const row = await ex.selectFrom('profiles').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    return (
      row && {
        accountId: row.account_id,
        version: row.version,
        ciphertext: row.ciphertext,
        // pg returns bigint columns as strings.
        updatedAt: Number(row.updated_at),
      }
    );
  }

  async remove(ex: Executor, accountId: string): Promise<void> {
    await ex.deleteFrom('profiles').where('account_id', '=', accountId).execute();
  }
}
