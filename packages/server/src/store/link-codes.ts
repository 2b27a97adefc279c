import type { Executor, LinkCodeState, LinkCodesTable } from '../db/schema.js';
import { dayStart } from './coarse-time.js';

export interface LinkCode {
  codeHash: Buffer;
  accountId: string;
  createdAt: number;
  expiresAt: number;
  state: LinkCodeState;
  publicKey: Buffer | null;
  sealed: Buffer | null;
  deviceId: number | null;
}

/**
 * Every transition is a conditional UPDATE on the expected state, so two racing
 * requests cannot both move a code forward.
 */
export class LinkCodeStore {
  async insert(ex: Executor, code: { codeHash: Buffer; accountId: string; createdAt: number; expiresAt: number }): Promise<void> {
    await ex
      .insertInto('link_codes')
      .values({
        code_hash: code.codeHash,
        account_id: code.accountId,
        // Nothing reads it; expires_at (minutes away, when the row goes) is the code's only clock.
        created_at: dayStart(code.createdAt),
        expires_at: code.expiresAt,
        state: 'waiting',
        public_key: null,
        sealed: null,
        device_id: null,
      })
      .execute();
  }

  /** The code if it exists and has not expired. */
  async live(ex: Executor, codeHash: Buffer, now: number): Promise<LinkCode | undefined> {
    const row = await ex
      .selectFrom('link_codes')
      .selectAll()
      .where('code_hash', '=', codeHash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row && toLinkCode(row);
  }

  async request(ex: Executor, codeHash: Buffer, publicKey: Buffer, now: number): Promise<boolean> {
    const r = await ex
      .updateTable('link_codes')
      .set({ state: 'requested', public_key: publicKey })
      .where('code_hash', '=', codeHash)
      .where('state', '=', 'waiting')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async provision(ex: Executor, codeHash: Buffer, accountId: string, sealed: Buffer, now: number): Promise<boolean> {
    const r = await ex
      .updateTable('link_codes')
      .set({ state: 'provisioned', sealed })
      .where('code_hash', '=', codeHash)
      .where('account_id', '=', accountId)
      .where('state', '=', 'requested')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The sealed secrets are dropped once the device exists: nothing left to fetch. */
  async markLinked(ex: Executor, codeHash: Buffer, deviceId: number, now: number): Promise<boolean> {
    const r = await ex
      .updateTable('link_codes')
      .set({ state: 'linked', device_id: deviceId, sealed: null })
      .where('code_hash', '=', codeHash)
      .where('state', '=', 'provisioned')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async removeForAccount(ex: Executor, accountId: string): Promise<void> {
    await ex.deleteFrom('link_codes').where('account_id', '=', accountId).execute();
  }

  async removeExpired(ex: Executor, now: number): Promise<number> {
    const r = await ex.deleteFrom('link_codes').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

function toLinkCode(row: LinkCodesTable): LinkCode {
  return {
    codeHash: row.code_hash,
    accountId: row.account_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    state: row.state,
    publicKey: row.public_key,
    sealed: row.sealed,
    deviceId: row.device_id,
  };
}
