import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Durability for SQLite in WAL mode without blocking the event loop.
 *
 * With `synchronous = FULL`, SQLite fsyncs the WAL inside every COMMIT, on the calling
 * (event-loop) thread: 1–4 ms per group commit here, during which no socket is served.
 * Instead the connection runs `synchronous = NORMAL` (commits only write() to the WAL;
 * SQLite still syncs around checkpoints and when the WAL is reused) and this class
 * fdatasyncs the WAL file on libuv's thread pool after commits. Frames are appended in
 * commit order, so one fdatasync that starts after a commit makes that commit (and all
 * before it) durable: the same guarantee as FULL. Concurrent callers share syncs: at most
 * one runs, and at most one more is queued behind it for everyone who committed since it
 * started.
 */
export class WalSync {
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly dbFile: string) {}

  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.fdatasync().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // The running sync may have started before the caller's commit: queue one more.
    this.queued ??= this.running.then(
      () => this.next(),
      () => this.next(),
    );
    return this.queued;
  }

  private next(): Promise<void> {
    this.queued = undefined;
    return this.sync();
  }

  protected fdatasync(): Promise<void> {
    let fd: number | undefined;
    try {
      fd = this.walFd();
    } catch (err) {
      return Promise.reject(err);
    }
    // No WAL file yet: nothing was ever written through it.
    if (fd === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  private walFd(): number | undefined {
    if (this.fd === undefined) {
      // Its directory entry must be durable too, once.
      try {
        this.fd = openSync(`${this.dbFile}-wal`, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      const dir = openSync(dirname(this.dbFile), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return this.fd;
  }

  /** Waits for syncs in flight, then releases the file descriptor. */
  async close(): Promise<void> {
    await this.queued?.catch(() => {});
    await this.running?.catch(() => {});
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
