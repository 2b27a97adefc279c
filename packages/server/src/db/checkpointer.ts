import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs SQLite WAL checkpoints on a worker thread with its own connection.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the threshold, on
 * the event loop: it copies pages into the database file and fsyncs it, stalling every
 * socket for milliseconds (tens under disk contention). Here the main connection turns
 * automatic checkpoints off and this worker runs PASSIVE checkpoints (which never block
 * the writer) every `intervalMs`. If the worker dies, automatic checkpoints come back,
 * so the WAL never grows without bound.
 *
 * Metadata minimisation: a PASSIVE checkpoint leaves old frames in the WAL file, and
 * those hold the ciphertext of envelopes long since acked and deleted (secure_delete
 * zeroes the database pages, not the WAL's history). So once the WAL is fully copied and
 * the database has been quiet for one interval after a write (or, under continuous
 * writes, every `truncateMaxDelayMs`), the worker asks the server's own connection to run
 * a TRUNCATE checkpoint, which empties the WAL file. It must be that connection: a
 * TRUNCATE takes the writer lock, and a second connection holding it would make the
 * server's read-then-write transactions fail with SQLITE_BUSY at once (SQLite does not
 * wait when a reader upgrades). On the server's connection it runs between transactions,
 * with nothing left to copy, never waiting for a lock (a busy attempt is retried later):
 * a truncate and one fsync of the database file, only when quiet or once per delay.
 */
export interface CheckpointerOptions {
  /** Empties the WAL on the server's connection; false if it could not right now. */
  truncate?: () => boolean;
  /** Longest time acked envelopes' old WAL frames may linger under continuous writes (default 5 s). */
  truncateMaxDelayMs?: number;
}

export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(file: string, intervalMs: number, onFailure: (err: unknown) => void, options: CheckpointerOptions = {}) {
    const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');
    const truncateMaxDelayMs = options.truncateMaxDelayMs ?? 5_000;
    // Plain JS (eval) so the worker needs no TypeScript loader, whatever runs the server.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs, truncateMaxDelayMs, truncate: !!options.truncate, betterSqlite3 } });
    this.worker.unref();
    const truncate = options.truncate;
    if (truncate) this.worker.on('message', (m: unknown) => m === 'truncate' && this.worker.postMessage(truncate() ? 'truncated' : 'busy'));
    this.worker.on('error', (err) => {
      if (!this.stopped) onFailure(err);
    });
    this.worker.on('exit', (code) => {
      if (!this.stopped && code !== 0) onFailure(new Error(`checkpoint worker exited with ${code}`));
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.worker.terminate();
  }
}

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
// The checkpointer syncs the database file after copying pages into it.
db.pragma('synchronous = NORMAL');
// Changes whenever another connection (the server's) commits: how quiet is detected.
let version = db.pragma('data_version', { simple: true });
let dirtySince = 0;
let asked = false;
parentPort.on('message', (m) => {
  asked = false;
  if (m === 'truncated') dirtySince = 0;
});
// A full disk (or a lock held a moment) skips this tick instead of killing the worker:
// checkpoints must go on once acks free space, or the WAL never shrinks again. Anything
// else still ends the worker, and the server falls back to inline checkpoints.
const SKIP = new Set(['SQLITE_FULL', 'SQLITE_BUSY', 'SQLITE_LOCKED']);
setInterval(() => {
  try {
    tick();
  } catch (err) {
    if (!SKIP.has(err && err.code)) throw err;
  }
}, workerData.intervalMs);
function tick() {
  const now = Date.now();
  const v = db.pragma('data_version', { simple: true });
  const wrote = v !== version;
  version = v;
  const [r] = db.pragma('wal_checkpoint(PASSIVE)');
  // An empty WAL (just truncated) has nothing to hide, whatever data_version says.
  if (r && r.log === 0) dirtySince = 0;
  else if (wrote && dirtySince === 0) dirtySince = now;
  if (!workerData.truncate || asked || dirtySince === 0) return;
  if (wrote && now - dirtySince < workerData.truncateMaxDelayMs) return;
  // Everything copied: the TRUNCATE will only cut the file.
  if (!r || r.busy !== 0 || r.log !== r.checkpointed) return;
  asked = true;
  parentPort.postMessage('truncate');
}
`;
