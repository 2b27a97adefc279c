import type { Executor } from '../db/schema.js';

export interface Account {
  id: string;
  username: string;
  brandId: string;
  identityKey: Buffer;
  createdAt: number;
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
        created_at: account.createdAt,
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

function toAccount(row: { id: string; username: string; brand_id: string; identity_key: Buffer; created_at: number }): Account {
  return { id: row.id, username: row.username, brandId: row.brand_id, identityKey: row.identity_key, createdAt: row.created_at };
}
