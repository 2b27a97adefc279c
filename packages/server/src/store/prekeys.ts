import type { Executor } from '../db/schema.js';

export interface OneTimePreKey {
  keyId: number;
  publicKey: Buffer;
}

export interface OneTimeKyberPreKey extends OneTimePreKey {
  signature: Buffer;
}

/** One-time EC and Kyber prekeys: uploaded in batches, each handed out once. */
export class PreKeyStore {
  /** Upserts: re-uploading a key id replaces it rather than failing the batch. */
  async addEc(ex: Executor, accountId: string, deviceId: number, keys: readonly OneTimePreKey[]): Promise<void> {
    if (keys.length === 0) return;
    await ex
      .insertInto('prekeys')
      .values(keys.map((k) => ({ account_id: accountId, device_id: deviceId, key_id: k.keyId, public_key: k.publicKey })))
      .onConflict((oc) => oc.columns(['account_id', 'device_id', 'key_id']).doUpdateSet((eb) => ({ public_key: eb.ref('excluded.public_key') })))
      .execute();
  }

  async addKyber(ex: Executor, accountId: string, deviceId: number, keys: readonly OneTimeKyberPreKey[]): Promise<void> {
    if (keys.length === 0) return;
    await ex
      .insertInto('kyber_prekeys')
      .values(
        keys.map((k) => ({ account_id: accountId, device_id: deviceId, key_id: k.keyId, public_key: k.publicKey, signature: k.signature })),
      )
      .onConflict((oc) =>
        oc
          .columns(['account_id', 'device_id', 'key_id'])
          .doUpdateSet((eb) => ({ public_key: eb.ref('excluded.public_key'), signature: eb.ref('excluded.signature') })),
      )
      .execute();
  }

  async counts(ex: Executor, accountId: string, deviceId: number): Promise<{ preKeys: number; kyberPreKeys: number }> {
    const [ec, kyber] = await Promise.all([
      ex
        .selectFrom('prekeys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .where('device_id', '=', deviceId)
        .executeTakeFirstOrThrow(),
      ex
        .selectFrom('kyber_prekeys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .where('device_id', '=', deviceId)
        .executeTakeFirstOrThrow(),
    ]);
    return { preKeys: Number(ec.n), kyberPreKeys: Number(kyber.n) };
  }

  /** Removes and returns one EC prekey. Call inside a transaction so no key is handed out twice. */
  async takeEc(ex: Executor, accountId: string, deviceId: number): Promise<OneTimePreKey | undefined> {
    const row = await ex
      .selectFrom('prekeys')
      .select(['key_id', 'public_key'])
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .orderBy('key_id')
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    if (!(await this.claim(ex, 'prekeys', accountId, deviceId, row.key_id))) return undefined;
    return { keyId: row.key_id, publicKey: row.public_key };
  }

  async takeKyber(ex: Executor, accountId: string, deviceId: number): Promise<OneTimeKyberPreKey | undefined> {
    const row = await ex
      .selectFrom('kyber_prekeys')
      .select(['key_id', 'public_key', 'signature'])
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .orderBy('key_id')
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    if (!(await this.claim(ex, 'kyber_prekeys', accountId, deviceId, row.key_id))) return undefined;
    return { keyId: row.key_id, publicKey: row.public_key, signature: row.signature };
  }

  /** Deletes the key just read; false when a concurrent fetch took it first. */
  private async claim(
    ex: Executor,
    table: 'prekeys' | 'kyber_prekeys',
    accountId: string,
    deviceId: number,
    keyId: number,
  ): Promise<boolean> {
    const deleted = await ex
      .deleteFrom(table)
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .where('key_id', '=', keyId)
      .executeTakeFirst();
    return Number(deleted.numDeletedRows) === 1;
  }

  async removeForDevice(ex: Executor, accountId: string, deviceId: number): Promise<void> {
    await ex.deleteFrom('prekeys').where('account_id', '=', accountId).where('device_id', '=', deviceId).execute();
    await ex.deleteFrom('kyber_prekeys').where('account_id', '=', accountId).where('device_id', '=', deviceId).execute();
  }
}
