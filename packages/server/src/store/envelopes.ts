import type { Db, Executor } from '../db/schema.js';
import { bucketedChunks, IN_LIST_BUCKETS, prepare, type PreparedQuery } from '../db/prepared.js';

export interface NewEnvelope {
  guid: string;
  accountId: string;
  deviceId: number;
  type: number;
  sourceAccount: string | null;
  sourceDevice: number | null;
  timestamp: number;
  serverTimestamp: number;
  content: Buffer;
  expiresAt: number;
}

export interface StoredEnvelope {
  id: number;
  guid: string;
  type: number;
  sourceAccount: string | null;
  sourceDevice: number | null;
  timestamp: number;
  serverTimestamp: number;
  content: Buffer;
}

type PageRow = {
  id: number;
  guid: string;
  type: number;
  source_account: string | null;
  source_device: number | null;
  timestamp: number;
  server_timestamp: number;
  content: Buffer;
};

/** Per-device queues. The send, push and ack paths use precompiled queries (db/prepared.ts). */
export class EnvelopeStore {
  private readonly insertQuery: PreparedQuery<{ id: number }>;
  private readonly pageQuery: PreparedQuery<PageRow>;
  private readonly deleteQueries = new Map<number, PreparedQuery<unknown>>();

  constructor(db: Db) {
    this.insertQuery = prepare((arg) =>
      db
        .insertInto('envelopes')
        .values({
          guid: arg(0),
          account_id: arg(1),
          device_id: arg(2),
          type: arg(3),
          source_account: arg(4),
          source_device: arg(5),
          timestamp: arg(6),
          server_timestamp: arg(7),
          content: arg(8),
          expires_at: arg(9),
        })
        .returning('id'),
    );
    this.pageQuery = prepare((arg) =>
      db
        .selectFrom('envelopes')
        .select(['id', 'guid', 'type', 'source_account', 'source_device', 'timestamp', 'server_timestamp', 'content'])
        .where('account_id', '=', arg(0))
        .where('device_id', '=', arg(1))
        .where('id', '>', arg(2))
        .orderBy('id')
        .limit(arg(3)),
    );
    for (const size of IN_LIST_BUCKETS) {
      this.deleteQueries.set(
        size,
        prepare((arg) =>
          db
            .deleteFrom('envelopes')
            .where('account_id', '=', arg(0))
            .where('device_id', '=', arg(1))
            .where(
              'guid',
              'in',
              Array.from({ length: size }, (_, i) => arg(i + 2)),
            ),
        ),
      );
    }
  }

  /** Returns the queue position (id). */
  async insert(ex: Executor, e: NewEnvelope): Promise<number> {
    const { rows } = await this.insertQuery.execute(ex, [
      e.guid,
      e.accountId,
      e.deviceId,
      e.type,
      e.sourceAccount,
      e.sourceDevice,
      e.timestamp,
      e.serverTimestamp,
      e.content,
      e.expiresAt,
    ]);
    return Number(rows[0]!.id);
  }

  /** The next `limit` envelopes of a device's queue after position `afterId`, in order. */
  async page(ex: Executor, accountId: string, deviceId: number, afterId: number, limit: number): Promise<StoredEnvelope[]> {
    const { rows } = await this.pageQuery.execute(ex, [accountId, deviceId, afterId, limit]);
    return rows.map((r) => ({
      id: Number(r.id),
      guid: r.guid,
      type: r.type,
      sourceAccount: r.source_account,
      sourceDevice: r.source_device,
      timestamp: Number(r.timestamp),
      serverTimestamp: Number(r.server_timestamp),
      content: r.content,
    }));
  }

  /** Deletes acknowledged envelopes; only rows of this device, whatever guids it names. */
  async deleteByGuids(ex: Executor, accountId: string, deviceId: number, guids: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const chunk of bucketedChunks(guids)) {
      const r = await this.deleteQueries.get(chunk.length)!.execute(ex, [accountId, deviceId, ...chunk]);
      deleted += Number(r.numAffectedRows ?? 0n);
    }
    return deleted;
  }

  async removeForDevice(ex: Executor, accountId: string, deviceId: number): Promise<number> {
    const r = await ex.deleteFrom('envelopes').where('account_id', '=', accountId).where('device_id', '=', deviceId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async removeForAccount(ex: Executor, accountId: string): Promise<number> {
    const r = await ex.deleteFrom('envelopes').where('account_id', '=', accountId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Deletes up to `limit` expired envelopes; call until it returns less than `limit`. */
  async removeExpired(ex: Executor, now: number, limit: number): Promise<number> {
    const r = await ex
      .deleteFrom('envelopes')
      .where('id', 'in', (eb) => eb.selectFrom('envelopes').select('id').where('expires_at', '<=', now).limit(limit))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async count(ex: Executor, accountId?: string, deviceId?: number): Promise<number> {
    let q = ex.selectFrom('envelopes').select((eb) => eb.fn.countAll<number>().as('n'));
    if (accountId !== undefined) q = q.where('account_id', '=', accountId);
    if (deviceId !== undefined) q = q.where('device_id', '=', deviceId);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
