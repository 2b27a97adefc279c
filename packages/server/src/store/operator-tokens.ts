import type { Executor } from '../db/schema.js';

export class OperatorTokenStore {
  async insert(ex: Executor, tokenHash: Buffer, createdAt: number): Promise<void> {
    await ex.insertInto('operator_tokens').values({ token_hash: tokenHash, created_at: createdAt }).execute();
  }

  /** Lookup by hash of the presented token: no comparison of secrets happens in JS. */
  async exists(ex: Executor, tokenHash: Buffer): Promise<boolean> {
    const row = await ex.selectFrom('operator_tokens').select('created_at').where('token_hash', '=', tokenHash).executeTakeFirst();
    return row !== undefined;
  }
}
