import type { Selectable } from 'kysely';
import type { EnvelopeHeader } from '@kluis/protocol';
import type { DatabaseAdapter } from '../db/database.js';
import type { Db, EnvelopesTable, Executor } from '../db/schema.js';
import { bucketedChunks, IN_LIST_BUCKETS, prepare, type PreparedQuery } from '../db/prepared.js';
import { QueueLanes, type LaneLookups } from './queue-lanes.js';

/** A row to queue for one device. */
export interface NewEnvelope extends EnvelopeHeader {
  accountId: string;
  deviceId: number;
  content: Buffer;
  expiresAt: number;
}

/** A queued row as a socket reads it; `id` is its queue position. */
export interface StoredEnvelope extends EnvelopeHeader {
  id: number;
  content: Buffer;
}

type PageRow = Pick<Selectable<EnvelopesTable>, 'id' | 'guid' | 'type' | 'source_account' | 'source_device' | 'timestamp' | 'server_timestamp' | 'content'>;

const COLUMNS = 11;
/** Rows per INSERT statement: a batch is cut into chunks of these sizes (few distinct SQL texts). */
const INSERT_CHUNKS = [64, 16, 4, 1] as const;

/** The store for an adapter: ids from its shared sequence where several processes write, else counted here. */
export function envelopeStoreFor(adapter: DatabaseAdapter): EnvelopeStore {
  if (!adapter.capabilities.sharedQueue) return new EnvelopeStore(adapter.db);
  return new EnvelopeStore(adapter.db, (ex, count) => adapter.allocateIds(ex, 'envelopes', count));
}

/** Per-device queues. The send, push and ack paths use precompiled queries (db/prepared.ts). */
export class EnvelopeStore {
  private readonly insertQueries = new Map<number, PreparedQuery<unknown>>();
  /** Positions per device queue, where this process is the only writer (see insertMany). */
  private readonly lanes: QueueLanes;
  private readonly lastIdQuery: PreparedQuery<{ max: number | null }>;
  private readonly rangeQuery: PreparedQuery<{ id: number }>;
  private readonly pageQuery: PreparedQuery<PageRow>;
  private readonly ownerQueries = new Map<number, PreparedQuery<{ id: number; guid: string; account_id: string; device_id: number }>>();
  private readonly deleteQueries = new Map<number, PreparedQuery<unknown>>();

  /** @param allocateIds where several processes write (capabilities.sharedQueue: DatabaseAdapter.allocateIds); else a local counter. */
  constructor(
    db: Db,
    private readonly allocateIds?: (ex: Executor, count: number) => Promise<number[]>,
  ) {
    this.lanes = new QueueLanes();
    for (const size of INSERT_CHUNKS) {
      this.insertQueries.set(
        size,
        prepare((arg) =>
          db.insertInto('envelopes').values(
            Array.from({ length: size }, (_, r) => ({
              id: arg(r * COLUMNS + 0),
              guid: arg(r * COLUMNS + 1),
              account_id: arg(r * COLUMNS + 2),
              device_id: arg(r * COLUMNS + 3),
              type: arg(r * COLUMNS + 4),
              source_account: arg(r * COLUMNS + 5),
              source_device: arg(r * COLUMNS + 6),
              timestamp: arg(r * COLUMNS + 7),
              server_timestamp: arg(r * COLUMNS + 8),
              content: arg(r * COLUMNS + 9),
              expires_at: arg(r * COLUMNS + 10),
            })),
          ),
        ),
      );
    }
    this.lastIdQuery = prepare((arg) =>
      db
        .selectFrom('envelopes')
        .select((eb) => eb.fn.max('id').as('max'))
        .where('account_id', '=', arg(0))
        .where('device_id', '=', arg(1)),
    );
    this.rangeQuery = prepare((arg) => db.selectFrom('envelopes').select('id').where('id', '>=', arg(0)).where('id', '<', arg(1)).limit(1));
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
      const slots = Array.from({ length: size }, (_, i) => i);
      this.ownerQueries.set(
        size,
        prepare((arg) =>
          db
            .selectFrom('envelopes')
            .select(['id', 'guid', 'account_id', 'device_id'])
            .where(
              'guid',
              'in',
              slots.map((i) => arg(i)),
            ),
        ),
      );
      this.deleteQueries.set(
        size,
        prepare((arg) =>
          db.deleteFrom('envelopes').where(
            'id',
            'in',
            slots.map((i) => arg(i)),
          ),
        ),
      );
    }
  }

  /**
   * Inserts envelopes in multi-row statements and returns their queue positions.
   * Positions are handed out here rather than by the database: this process is the only
   * writer of its SQLite file, and no RETURNING round trip is needed. Each device queue
   * has a lane of its own: it starts at a random position (above the queue's largest
   * stored id, if any) and counts up by one. Order only matters within a queue (socket
   * cursors are per device and live as long as the socket); one global counter would make
   * the rows of one send adjacent — a sealed envelope to Bob at 100, its sender's sync
   * copy at 101 — and so name the sender. A store several processes write
   * (DatabaseCapabilities.sharedQueue) takes ids from DatabaseAdapter.allocateIds (a
   * sequence) instead, and keeps that adjacency.
   */
  async insertMany(ex: Executor, envelopes: readonly NewEnvelope[]): Promise<number[]> {
    if (envelopes.length === 0) return [];
    const ids = this.allocateIds ? await this.allocateIds(ex, envelopes.length) : await this.laneIds(ex, envelopes);
    let i = 0;
    for (const size of INSERT_CHUNKS) {
      const query = this.insertQueries.get(size)!;
      while (envelopes.length - i >= size) {
        const args: unknown[] = new Array(size * COLUMNS);
        for (let r = 0; r < size; r++) {
          const e = envelopes[i + r]!;
          const o = r * COLUMNS;
          args[o] = ids[i + r];
          args[o + 1] = e.guid;
          args[o + 2] = e.accountId;
          args[o + 3] = e.deviceId;
          args[o + 4] = e.type;
          args[o + 5] = e.sourceAccount;
          args[o + 6] = e.sourceDevice;
          args[o + 7] = e.timestamp;
          args[o + 8] = e.serverTimestamp;
          args[o + 9] = e.content;
          args[o + 10] = e.expiresAt;
        }
        await query.execute(ex, args);
        i += size;
      }
    }
    return ids;
  }

  private async laneIds(ex: Executor, envelopes: readonly NewEnvelope[]): Promise<number[]> {
    const db: LaneLookups = {
      lastStored: async (accountId, deviceId) => {
        const max = (await this.lastIdQuery.execute(ex, [accountId, deviceId])).rows[0]?.max;
        return max === null || max === undefined ? undefined : Number(max);
      },
      anyStored: async (from, to) => (await this.rangeQuery.execute(ex, [from, to])).rows.length > 0,
    };
    const ids = new Array<number>(envelopes.length);
    for (let i = 0; i < envelopes.length; i++) ids[i] = await this.lanes.next(envelopes[i]!.accountId, envelopes[i]!.deviceId, db);
    return ids;
  }

  async insert(ex: Executor, envelope: NewEnvelope): Promise<number> {
    return (await this.insertMany(ex, [envelope]))[0]!;
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
    return this.deleteAcked(ex, [{ accountId, deviceId, guids }]);
  }

  /**
   * Acks of many devices in a few statements: look the guids up, keep the rows that
   * belong to the device that acked them, delete those by id. A guid named by another
   * device is simply ignored.
   */
  async deleteAcked(ex: Executor, acks: ReadonlyArray<{ accountId: string; deviceId: number; guids: readonly string[] }>): Promise<number> {
    const owner = new Map<string, string>();
    for (const a of acks) {
      const key = `${a.accountId}.${a.deviceId}`;
      for (const guid of a.guids) owner.set(guid, key);
    }
    if (owner.size === 0) return 0;
    const ids: number[] = [];
    for (const chunk of bucketedChunks([...owner.keys()])) {
      const { rows } = await this.ownerQueries.get(chunk.length)!.execute(ex, chunk);
      for (const r of rows) if (owner.get(r.guid) === `${r.account_id}.${r.device_id}`) ids.push(Number(r.id));
    }
    await this.deleteByIds(ex, ids);
    return ids.length;
  }

  /** Deletes by queue position; the caller has checked whose rows these are. */
  async deleteByIds(ex: Executor, ids: readonly number[]): Promise<void> {
    for (const chunk of bucketedChunks(ids)) await this.deleteQueries.get(chunk.length)!.execute(ex, chunk);
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

  /**
   * Stored envelopes and ciphertext bytes per device, for the queue caps (QueueCaps reads
   * a device once a minute at most, never per send). Devices with nothing stored are left out.
   */
  async usage(ex: Executor, devices: ReadonlyArray<{ accountId: string; deviceId: number }>): Promise<Array<{ accountId: string; deviceId: number; count: number; bytes: number }>> {
    const wanted = new Set(devices.map((d) => `${d.accountId}.${d.deviceId}`));
    const out: Array<{ accountId: string; deviceId: number; count: number; bytes: number }> = [];
    for (const chunk of bucketedChunks([...new Set(devices.map((d) => d.accountId))])) {
      const rows = await ex
        .selectFrom('envelopes')
        .select((eb) => ['account_id', 'device_id', eb.fn.countAll<number>().as('n'), eb.fn.sum<number>(eb.fn('length', ['content'])).as('bytes')])
        .where('account_id', 'in', chunk)
        .groupBy(['account_id', 'device_id'])
        .execute();
      for (const r of rows) {
        if (wanted.has(`${r.account_id}.${r.device_id}`)) out.push({ accountId: r.account_id, deviceId: r.device_id, count: Number(r.n), bytes: Number(r.bytes ?? 0) });
      }
    }
    return out;
  }

  async count(ex: Executor, accountId?: string, deviceId?: number): Promise<number> {
    let q = ex.selectFrom('envelopes').select((eb) => eb.fn.countAll<number>().as('n'));
    if (accountId !== undefined) q = q.where('account_id', '=', accountId);
    if (deviceId !== undefined) q = q.where('device_id', '=', deviceId);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
