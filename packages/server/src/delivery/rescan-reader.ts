import { PushedEnvelopes } from './pushed-envelopes.js';
import type { AckTargets, QueuePage, QueueReader, ReadPage } from './queue-reader.js';

/**
 * Several writers (DatabaseCapabilities.sharedQueue): queue ids do not follow commit
 * order (node A may commit id 101 before node B commits id 100), so a cursor alone could
 * step over a late commit. Every wake and every announcement makes the next read a full
 * re-read of the queue, which skips by guid what this socket already pushed; nothing is
 * pushed live, since an earlier envelope of the same sender may be committed but not yet
 * announced (its node died before publishing) and a push now would overtake it.
 */
export class RescanReader implements QueueReader {
  private cursor = 0;
  /** Every unacked push (else a re-read repeats it); the socket's high-water mark and the client's acks keep this small. */
  private readonly sent = new PushedEnvelopes(Infinity);
  /** Guids acked on this socket whose rows may not be deleted yet, so a re-read does not push them again. */
  private ackedGuids: Set<string> | undefined;
  /** A full re-read is due (set by a wake or an announcement). */
  private due = false;
  /** Where the full re-read under way is (undefined: reading on from the cursor). */
  private scanFrom: number | undefined;
  /** Guids the re-read under way has seen: acked ones it did not see are gone for good. */
  private seen: Set<string> | undefined;

  constructor(
    private readonly readPage: ReadPage,
    private readonly pageSize: number,
  ) {}

  announced(): boolean {
    this.due = true;
    return false;
  }

  wake(): void {
    this.due = true;
  }

  async read(): Promise<QueuePage> {
    if (this.due && this.scanFrom === undefined) {
      this.due = false;
      this.scanFrom = 0;
      this.seen = new Set();
    }
    let rows;
    try {
      rows = await this.readPage(this.scanFrom ?? this.cursor, this.pageSize);
    } catch (err) {
      // A failed read ends the re-read; the caller wakes this reader again for a fresh one.
      this.scanFrom = undefined;
      this.seen = undefined;
      throw err;
    }
    const full = rows.length >= this.pageSize;
    if (this.scanFrom === undefined) return { rows, more: full || this.due };
    for (const row of rows) this.seen!.add(row.guid);
    if (full) {
      this.scanFrom = rows[rows.length - 1]!.id;
      return { rows, more: true };
    }
    // The whole queue was read: acked guids not in it are deleted for good.
    if (this.ackedGuids) for (const guid of this.ackedGuids) if (!this.seen!.has(guid)) this.ackedGuids.delete(guid);
    this.scanFrom = undefined;
    this.seen = undefined;
    return { rows, more: this.due };
  }

  /** Above the cursor never pushed; below it, by guid. */
  isUnsent(e: { id: number; guid: string }): boolean {
    if (e.id > this.cursor) return true;
    return !this.sent.has(e.guid) && this.ackedGuids?.has(e.guid) !== true;
  }

  pushed(e: { id: number; guid: string }): void {
    if (e.id > this.cursor) this.cursor = e.id;
    this.sent.add(e);
  }

  acked(guids: readonly string[]): AckTargets {
    const targets = this.sent.take(guids);
    const acked = (this.ackedGuids ??= new Set());
    for (const guid of guids) acked.add(guid);
    return targets;
  }
}
