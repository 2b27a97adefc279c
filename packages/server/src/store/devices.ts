import type { Db, DevicesTable, Executor } from '../db/schema.js';
import { bucketedChunks, IN_LIST_BUCKETS, prepare, type PreparedQuery } from '../db/prepared.js';
import { dayStart } from './coarse-time.js';

export interface SignedKey {
  keyId: number;
  publicKey: Buffer;
  signature: Buffer;
}

export interface Device {
  accountId: string;
  deviceId: number;
  registrationId: number;
  passwordHash: string;
  name: Buffer | null;
  signedPreKey: SignedKey;
  kyberLastResort: SignedKey;
  /** Stored as the day (midnight UTC) it falls on. */
  createdAt: number;
  lastSeenDay: number | null;
}

export interface DeviceRegistration {
  accountId: string;
  deviceId: number;
  registrationId: number;
}

type RegistrationRow = { account_id: string; device_id: number; registration_id: number };

export class DeviceStore {
  private readonly registrationQueries = new Map<number, PreparedQuery<RegistrationRow>>();
  private readonly passwordQuery: PreparedQuery<{ password_hash: string }>;
  private readonly touchQuery: PreparedQuery<unknown>;

  constructor(db: Db) {
    for (const size of IN_LIST_BUCKETS) {
      this.registrationQueries.set(
        size,
        prepare((arg) =>
          db
            .selectFrom('devices')
            .select(['account_id', 'device_id', 'registration_id'])
            .where(
              'account_id',
              'in',
              Array.from({ length: size }, (_, i) => arg(i)),
            ),
        ),
      );
    }
    this.passwordQuery = prepare((arg) =>
      db.selectFrom('devices').select('password_hash').where('account_id', '=', arg(0)).where('device_id', '=', arg(1)),
    );
    this.touchQuery = prepare((arg) =>
      db
        .updateTable('devices')
        .set({ last_seen_day: arg(2) })
        .where('account_id', '=', arg(0))
        .where('device_id', '=', arg(1))
        .where((eb) => eb.or([eb('last_seen_day', 'is', null), eb('last_seen_day', '<', arg(2))])),
    );
  }

  async insert(ex: Executor, d: Device): Promise<void> {
    await ex.insertInto('devices').values(toRow(d)).execute();
  }

  async get(ex: Executor, accountId: string, deviceId: number): Promise<Device | undefined> {
    const row = await ex
      .selectFrom('devices')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row && toDevice(row);
  }

  async list(ex: Executor, accountId: string): Promise<Device[]> {
    const rows = await ex.selectFrom('devices').selectAll().where('account_id', '=', accountId).orderBy('device_id').execute();
    return rows.map(toDevice);
  }

  async deviceIds(ex: Executor, accountId: string): Promise<number[]> {
    const rows = await ex.selectFrom('devices').select('device_id').where('account_id', '=', accountId).orderBy('device_id').execute();
    return rows.map((r) => r.device_id);
  }

  async passwordHash(ex: Executor, accountId: string, deviceId: number): Promise<string | undefined> {
    const { rows } = await this.passwordQuery.execute(ex, [accountId, deviceId]);
    return rows[0]?.password_hash;
  }

  /** Registration ids of every device of the given accounts (the send path's device check). */
  async registrations(ex: Executor, accountIds: readonly string[]): Promise<DeviceRegistration[]> {
    const out: DeviceRegistration[] = [];
    for (const chunk of bucketedChunks(accountIds)) {
      const { rows } = await this.registrationQueries.get(chunk.length)!.execute(ex, chunk);
      for (const r of rows) out.push({ accountId: r.account_id, deviceId: r.device_id, registrationId: r.registration_id });
    }
    return out;
  }

  async remove(ex: Executor, accountId: string, deviceId: number): Promise<boolean> {
    const result = await ex.deleteFrom('devices').where('account_id', '=', accountId).where('device_id', '=', deviceId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Removes every device but the primary; returns the removed ids. */
  async removeLinked(ex: Executor, accountId: string): Promise<number[]> {
    const rows = await ex
      .deleteFrom('devices')
      .where('account_id', '=', accountId)
      .where('device_id', '>', 1)
      .returning('device_id')
      .execute();
    return rows.map((r) => r.device_id);
  }

  /** Re-registration: the primary keeps its id but gets new credentials and keys. */
  async replace(ex: Executor, d: Device): Promise<void> {
    const { account_id, device_id, ...rest } = toRow(d);
    await ex.updateTable('devices').set(rest).where('account_id', '=', account_id).where('device_id', '=', device_id).execute();
  }

  async setSignedPreKey(ex: Executor, accountId: string, deviceId: number, key: SignedKey): Promise<void> {
    await ex
      .updateTable('devices')
      .set({ signed_prekey_id: key.keyId, signed_prekey: key.publicKey, signed_prekey_signature: key.signature })
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .execute();
  }

  async setKyberLastResort(ex: Executor, accountId: string, deviceId: number, key: SignedKey): Promise<void> {
    await ex
      .updateTable('devices')
      .set({ kyber_last_resort_id: key.keyId, kyber_last_resort: key.publicKey, kyber_last_resort_signature: key.signature })
      .where('account_id', '=', accountId)
      .where('device_id', '=', deviceId)
      .execute();
  }

  /** Writes only when the day changed, so reconnects within a day cost no write. */
  async touch(ex: Executor, accountId: string, deviceId: number, day: number): Promise<void> {
    await this.touchQuery.execute(ex, [accountId, deviceId, day]);
  }
}

function toRow(d: Device): DevicesTable {
  return {
    account_id: d.accountId,
    device_id: d.deviceId,
    registration_id: d.registrationId,
    password_hash: d.passwordHash,
    name: d.name,
    signed_prekey_id: d.signedPreKey.keyId,
    signed_prekey: d.signedPreKey.publicKey,
    signed_prekey_signature: d.signedPreKey.signature,
    kyber_last_resort_id: d.kyberLastResort.keyId,
    kyber_last_resort: d.kyberLastResort.publicKey,
    kyber_last_resort_signature: d.kyberLastResort.signature,
    created_at: dayStart(d.createdAt),
    last_seen_day: d.lastSeenDay,
  };
}

function toDevice(row: DevicesTable): Device {
  return {
    accountId: row.account_id,
    deviceId: row.device_id,
    registrationId: row.registration_id,
    passwordHash: row.password_hash,
    name: row.name,
    signedPreKey: { keyId: row.signed_prekey_id, publicKey: row.signed_prekey, signature: row.signed_prekey_signature },
    kyberLastResort: { keyId: row.kyber_last_resort_id, publicKey: row.kyber_last_resort, signature: row.kyber_last_resort_signature },
    createdAt: Number(row.created_at),
    lastSeenDay: row.last_seen_day,
  };
}
