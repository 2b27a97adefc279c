import { PushedEnvelopes } from './pushed-envelopes.js';
import type { AckTargets, QueuePage, QueueReader, ReadPage } from './queue-reader.js';

/** Unacked pushes remembered for fast acks (~100 bytes each). */
const MAX_TRACKED_PUSHES = 4096;

/**
 * One writer (DatabaseCapabilities.sharedQueue false): ids follow commit order, so the
 * last position pushed is a cursor that nothing committed later can fall below. A page
 * reads on from it, an announced envelope above it may go out live, and no guids need
 * keeping beyond the fast-ack map.
 */
export class OrderedCursorReader implements QueueReader {
  private cursor = 0;
  private readonly sent = new PushedEnvelopes(MAX_TRACKED_PUSHES);

  constructor(
    private readonly readPage: ReadPage,
    private readonly pageSize: number,
  ) {}

  announced(): boolean {
    return true;
  }

  wake(): void {
    // The next read starts at the cursor anyway.
  }

  async read(): Promise<QueuePage> {
    const rows = await this.readPage(this.cursor, this.pageSize);
    return { rows, more: rows.length >= this.pageSize };
  }

  isUnsent(e: { id: number }): boolean {
    return e.id > this.cursor;
  }

  pushed(e: { id: number; guid: string }): void {
    if (e.id > this.cursor) this.cursor = e.id;
    this.sent.add(e);
  }

  acked(guids: readonly string[]): AckTargets {
    return this.sent.take(guids);
  }
}
