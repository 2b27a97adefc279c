import type { DatabaseCapabilities } from '../db/database.js';
import type { StoredEnvelope } from '../store/envelopes.js';
import { OrderedCursorReader } from './ordered-cursor-reader.js';
import { RescanReader } from './rescan-reader.js';

/** Backlog page size: one query per this many envelopes. */
export const PAGE_SIZE = 200;

/** The next `limit` envelopes of one device's queue after position `afterId`, in queue order. */
export type ReadPage = (afterId: number, limit: number) => Promise<StoredEnvelope[]>;

export interface QueuePage {
  /** In queue order; some may have been pushed on this socket already (ask isUnsent). */
  rows: readonly StoredEnvelope[];
  /** The queue was not read to its end (or a re-read is due): read again before going live. */
  more: boolean;
}

/** An ack split by what this socket knows: queue positions it pushed, and guids to look up. */
export interface AckTargets {
  ids?: number[];
  guids?: string[];
}

/**
 * What a device's socket knows of its queue: what it pushed and where to read next. It
 * hides how the database orders commits (DatabaseCapabilities.sharedQueue), so the
 * connection is one state machine: read pages until caught up, then push live.
 *
 * wake() and an announced() that answers false are always followed by a read: the
 * connection marks itself dirty, so `more` need not account for them after the fact.
 */
export interface QueueReader {
  /**
   * Envelopes were announced as committed (a bus 'envelopes' event). True: those not
   * yet pushed may be pushed as they are, while the socket is live. False: they must be
   * read from the queue instead, which may hold earlier ones committed unannounced.
   */
  announced(): boolean;
  /** Something was queued, or wakes may have been missed (store outage): catch up. */
  wake(): void;
  read(): Promise<QueuePage>;
  /** Not yet pushed on this socket (for a row of a page or an announced envelope). */
  isUnsent(e: { id: number; guid: string }): boolean;
  pushed(e: { id: number; guid: string }): void;
  acked(guids: readonly string[]): AckTargets;
}

export type QueueReaderFactory = (readPage: ReadPage) => QueueReader;

export const orderedCursorReader: QueueReaderFactory = (readPage) => new OrderedCursorReader(readPage, PAGE_SIZE);
export const rescanReader: QueueReaderFactory = (readPage) => new RescanReader(readPage, PAGE_SIZE);

/** One writer: ids follow commit order and a cursor suffices. Several: rescan on wake. */
export function queueReaderFor(capabilities: Pick<DatabaseCapabilities, 'sharedQueue'>): QueueReaderFactory {
  return capabilities.sharedQueue ? rescanReader : orderedCursorReader;
}
