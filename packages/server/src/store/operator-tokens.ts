import { randomUUID } from 'node:crypto';
import type { Executor } from '../db/schema.js';

/**
 * The first-start operator credential. Since migration 0002 every admin credential lives
 * in admin_tokens (store/admin-tokens.ts); this keeps the narrow API first start uses.
 */
export class OperatorTokenStore {
  async insert(ex: Executor, tokenHash: Buffer, createdAt: number, id: string = randomUUID()): Promise<void> {
    await ex
      .insertInto('admin_tokens')
      .values({ id, name: 'operator (first start)', role: 'operator', brand_id: null, token_hash: tokenHash, created_at: createdAt, revoked_at: null })
      .execute();
  }

  /** Lookup by hash of the presented token: no comparison of secrets happens in JS. */
  async exists(ex: Executor, tokenHash: Buffer): Promise<boolean> {
    const row = await ex.selectFrom('admin_tokens').select('id').where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
    return row !== undefined;
  }
}
