import { sql } from 'kysely';
import type { BlobsTable, Executor } from '../db/schema.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Midnight UTC of the day `ms` falls in. */
export function floorDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The first midnight UTC at or after `ms`. */
export function ceilDay(ms: number): number {
  return Math.ceil(ms / DAY_MS) * DAY_MS;
}

export interface BlobRow {
  id: string;
  size: number;
  received: number;
  complete: boolean;
  /** Midnight UTC of the day the upload was reserved. */
  createdAt: number;
  /** A midnight UTC, at least the TTL after the reservation. */
  expiresAt: number;
}

/** Uploads reserved and not complete: how many, their declared bytes, and the bytes still to come. */
export interface OutstandingUploads {
  count: number;
  bytes: number;
  remaining: number;
}

/**
 * The `blobs` table: what the server knows of an attachment (never whose it is, nor who
 * fetched it or how many will). Times are stored as whole UTC days, whatever the caller
 * passes: a blob reserved a few milliseconds before the message carrying its pointer must
 * not be placeable next to that message in a copy of the database.
 */
export class BlobMetaStore {
  async insert(ex: Executor, row: { id: string; size: number; createdAt: number; expiresAt: number }): Promise<BlobRow> {
    const stored = { id: row.id, size: row.size, received: 0, complete: false, createdAt: floorDay(row.createdAt), expiresAt: ceilDay(row.expiresAt) };
    await ex
      .insertInto('blobs')
      .values({ id: stored.id, size: stored.size, received: 0, complete: 0, created_at: stored.createdAt, expires_at: stored.expiresAt })
      .execute();
    return stored;
  }

  async get(ex: Executor, id: string): Promise<BlobRow | undefined> {
    const row = await ex.selectFrom('blobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRow(row);
  }

  /** Conditional on the offset the upload started from, so two racing uploads cannot both count. */
  async setReceived(ex: Executor, id: string, from: number, to: number, complete: boolean): Promise<boolean> {
    const r = await ex
      .updateTable('blobs')
      .set({ received: to, complete: complete ? 1 : 0 })
      .where('id', '=', id)
      .where('received', '=', from)
      .where('complete', '=', 0)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async remove(ex: Executor, id: string): Promise<void> {
    await ex.deleteFrom('blobs').where('id', '=', id).execute();
  }

  /** Past their expiry, or uploads never completed and reserved on or before `incompleteBefore`. */
  async expired(ex: Executor, now: number, incompleteBefore: number, limit: number): Promise<string[]> {
    const rows = await ex
      .selectFrom('blobs')
      .select('id')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb.and([eb('complete', '=', 0), eb('created_at', '<=', incompleteBefore)])]))
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Incomplete uploads reserved after `incompleteBefore` and not expired: the ones the
   * sweep would not delete yet (through the `blobs_incomplete` index, so it costs as much
   * as there are such uploads, which the caller caps).
   */
  async outstanding(ex: Executor, now: number, incompleteBefore: number): Promise<OutstandingUploads> {
    const row = await ex
      .selectFrom('blobs')
      .select([
        sql<number | string>`count(*)`.as('count'),
        sql<number | string | null>`coalesce(sum(size), 0)`.as('bytes'),
        sql<number | string | null>`coalesce(sum(size - received), 0)`.as('remaining'),
      ])
      .where('complete', '=', 0)
      .where('created_at', '>', incompleteBefore)
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), bytes: Number(row.bytes ?? 0), remaining: Number(row.remaining ?? 0) };
  }
}

function toRow(row: { [K in keyof BlobsTable]: unknown }): BlobRow {
  return {
    id: row.id as string,
    size: Number(row.size),
    received: Number(row.received),
    complete: Number(row.complete) === 1,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}
