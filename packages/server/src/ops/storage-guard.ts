import { open, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiError } from '../errors.js';
import { isStorageFull, storageFull } from '../errors.js';
import type { Logger } from '../logger.js';

/** The reserve's file name in the data directory (zeros; safe to delete by hand in an emergency). */
export const RESERVE_FILE = 'storage-reserve';

const MIB = 1024 * 1024;
const CHUNK = MIB;

export interface StorageGuardOptions {
  /** The data directory: the reserve lives there and its free space is watched. '' = nothing local to watch (PostgreSQL). */
  dir: string;
  /** Bytes of the reserve file; 0 = none. */
  reserveBytes: number;
  /** While full: how often free space is checked, and the longest gap between log lines. */
  checkIntervalMs: number;
  log: Logger;
  /** Counted per refused request (metrics). */
  onRefused?: () => void;
}

/**
 * What the server does about a full disk. Deletes need space too (SQLite writes the pages
 * an ack frees to the WAL first), so a disk that filled with queued messages could never
 * drain: receivers' acks failed like the sends. So a few MiB are kept in a reserve file,
 * released at the first "disk full"; from then on, new sends are refused at the door (507
 * STORAGE_FULL, nothing written) so the released space goes to acks and expiry, which
 * free space. Every `checkIntervalMs` the free space is looked at: once there is room for
 * the reserve and as much again, the reserve is made again and sends are accepted, with
 * no restart. One log line when it fills, at most one per interval while it stays full
 * (with the number refused), one when it recovers.
 *
 * With PostgreSQL the disk is the database server's: there is no reserve here, and the
 * full state is left after one interval to try again (the next failure re-enters it).
 */
export class StorageGuard {
  private full = false;
  private refusedSinceLog = 0;
  /** Writes that failed while already full (acks, say, if the reserve ran out): in the next line. */
  private failedSinceLog = 0;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private closed = false;
  private readonly reservePath: string | undefined;

  constructor(private readonly opts: StorageGuardOptions) {
    this.reservePath = opts.dir && opts.reserveBytes > 0 ? join(opts.dir, RESERVE_FILE) : undefined;
  }

  /** True while new writes are refused. */
  get isFull(): boolean {
    return this.full;
  }

  /** Makes the reserve if it is missing or short; a disk already full starts in the full state. */
  async start(): Promise<void> {
    if (!this.reservePath) return;
    try {
      await this.makeReserve();
    } catch (err) {
      if (!isStorageFull(err)) throw err;
      this.enterFull('at start');
    }
  }

  /** A storage-full error seen anywhere (group commit, a route, a job). Cheap to call often. */
  report(err?: unknown): void {
    if (err !== undefined && !isStorageFull(err)) return;
    if (!this.full) this.enterFull('a write failed');
    else this.failedSinceLog++;
  }

  /** The 507 to answer instead of storing anything new, or undefined while there is room. */
  refuse(): ApiError | undefined {
    if (!this.full) return undefined;
    this.refusedSinceLog++;
    this.opts.onRefused?.();
    return storageFull();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopTimer();
  }

  /** Runs one check now (tests; also what the timer does). */
  async check(): Promise<void> {
    if (!this.full || this.checking || this.closed) return;
    this.checking = true;
    try {
      await this.checkOnce();
    } finally {
      this.checking = false;
    }
  }

  private enterFull(why: string): void {
    this.full = true;
    this.refusedSinceLog = 0;
    this.failedSinceLog = 0;
    const released = this.reservePath ? `; the ${this.mib(this.opts.reserveBytes)} reserve was released so acks and expiry can still free space` : '';
    this.opts.log.error(`storage full (${why}): new messages are refused with 507 STORAGE_FULL until space is back${released}`);
    if (this.reservePath) void unlink(this.reservePath).catch(() => {});
    this.startTimer();
  }

  private async checkOnce(): Promise<void> {
    if (!this.reservePath) {
      // Nothing local to measure: let writes try again; a failure comes back here.
      this.leaveFull('retrying writes');
      return;
    }
    const free = await this.freeBytes();
    const needed = 2 * this.opts.reserveBytes;
    if (free >= needed) {
      try {
        await this.makeReserve();
        this.leaveFull(`${this.mib(free)} free`);
        return;
      } catch (err) {
        if (!isStorageFull(err)) this.opts.log.error('making the storage reserve failed', err);
        await unlink(this.reservePath).catch(() => {});
      }
    }
    // One line per interval at most, and only with news: how many were refused meanwhile.
    if (this.refusedSinceLog > 0 || this.failedSinceLog > 0) {
      const failed = this.failedSinceLog > 0 ? `, ${this.failedSinceLog} writes failed` : '';
      this.opts.log.error(
        `storage still full: ${this.refusedSinceLog} requests refused with 507${failed} in the last ${Math.round(this.opts.checkIntervalMs / 1000)} s; ${this.mib(free)} free, ${this.mib(needed)} needed to resume`,
      );
      this.refusedSinceLog = 0;
      this.failedSinceLog = 0;
    }
  }

  private leaveFull(how: string): void {
    this.full = false;
    this.stopTimer();
    const refused = this.refusedSinceLog > 0 ? ` (${this.refusedSinceLog} refused since the last line)` : '';
    this.refusedSinceLog = 0;
    this.opts.log.info(`storage has room again (${how}): accepting new messages${refused}`);
  }

  private async freeBytes(): Promise<number> {
    const s = await statfs(this.opts.dir);
    return Number(s.bavail) * Number(s.bsize);
  }

  /** Writes zeros (a sparse or fallocated file would not hold the space on every filesystem). */
  private async makeReserve(): Promise<void> {
    const path = this.reservePath!;
    const f = await open(path, 'a+', 0o600);
    try {
      const { size } = await f.stat();
      if (size >= this.opts.reserveBytes) return;
      const zeros = Buffer.alloc(CHUNK);
      for (let at = size; at < this.opts.reserveBytes; at += CHUNK) {
        await f.write(zeros, 0, Math.min(CHUNK, this.opts.reserveBytes - at), at);
      }
      await f.sync();
    } finally {
      await f.close();
    }
  }

  private mib(bytes: number): string {
    return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MiB`;
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.check().catch((err: unknown) => this.opts.log.error('storage check failed', err)), this.opts.checkIntervalMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
