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
 * writes, every `truncateMaxDelayMs`), the WAL file is emptied by a TRUNCATE checkpoint.
 * A TRUNCATE takes the writer lock, and while another connection holds it the server's
 * read-then-write transactions fail with SQLITE_BUSY at once (SQLite does not wait when
 * a reader upgrades); run on the server's own connection instead, it would copy the
 * frames written since the last PASSIVE and fsync the database file on the event loop, a
 * stall of milliseconds (a cause of the latency tail). So, a handshake:
 *   1. the worker, due to truncate and with everything copied, asks the server;
 *   2. the server pauses its database use (`writes.pause`: every Kysely query and
 *      transaction waits as a promise; sockets, pushes and timers go on) and tells the
 *      worker to go ahead;
 *   3. the worker runs the TRUNCATE on its own connection: it copies the last frames,
 *      fsyncs the database file and cuts the WAL file, on its thread, and answers;
 *   4. the server's queries resume.
 * Nothing runs on the event loop but the bookkeeping. Sends that arrive meanwhile wait
 * for their commit by that long (milliseconds, once per truncate); a failed or busy
 * attempt is retried on a later tick, and if the worker hangs or dies, the pause ends
 * after `pauseLimitMs` at the latest. Without `writes` (no gate), the worker never truncates.
 */
export interface CheckpointerOptions {
  /** Holds the server's database use back while the worker truncates (step 2 above). */
  writes?: {
    /** Resolves once in-flight queries are done, with the function that lets them go on; undefined if already paused. */
    pause(): Promise<(() => void) | undefined>;
  };
  /** Longest time acked envelopes' old WAL frames may linger under continuous writes (default 5 s). */
  truncateMaxDelayMs?: number;
  /** WAL frames (pages) past which it is cut without waiting for the delay (default 16384: 64 MiB of 4 KiB pages, the journal_size_limit). */
  walLimitFrames?: number;
  /**
   * A safety net (default 10 s): the pause ends by then even if the worker never answered.
   * Not a budget: a truncate still running holds the writer lock, and writes would wait on it.
   */
  pauseLimitMs?: number;
}

type WorkerMessage = 'truncate' | { truncated: number; ok: boolean };

export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(file: string, intervalMs: number, onFailure: (err: unknown) => void, options: CheckpointerOptions = {}) {
    const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');
    const truncateMaxDelayMs = options.truncateMaxDelayMs ?? 5_000;
    // Plain JS (eval) so the worker needs no TypeScript loader, whatever runs the server.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs, truncateMaxDelayMs, walLimitFrames: options.walLimitFrames ?? 16384, truncate: !!options.writes, betterSqlite3 } });
    this.worker.unref();
    if (options.writes) this.handshake(options.writes, options.pauseLimitMs ?? 10_000);
    this.worker.on('error', (err) => {
      this.abandon?.();
      if (!this.stopped) onFailure(err);
    });
    this.worker.on('exit', (code) => {
      this.abandon?.();
      if (!this.stopped && code !== 0) onFailure(new Error(`checkpoint worker exited with ${code}`));
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abandon?.();
    await this.worker.terminate();
  }

  /** Gives up the attempt in progress (writes resume); set while one runs. */
  private abandon: (() => void) | undefined;

  /** Steps 2 and 4 of the handshake described above. */
  private handshake(writes: NonNullable<CheckpointerOptions['writes']>, pauseLimitMs: number): void {
    let attempt = 0;
    let inProgress: { id: number; resume: () => void; timer: NodeJS.Timeout } | undefined;
    const finish = (truncated: boolean) => {
      if (!inProgress) return;
      clearTimeout(inProgress.timer);
      inProgress.resume();
      inProgress = undefined;
      this.abandon = undefined;
      if (!this.stopped) this.worker.postMessage(truncated ? 'truncated' : 'busy');
    };
    this.worker.on('message', (m: WorkerMessage) => {
      if (m === 'truncate') {
        void (async () => {
          const resume = this.stopped ? undefined : await writes.pause();
          if (!resume) return this.worker.postMessage('busy');
          if (this.stopped) return resume();
          const id = ++attempt;
          inProgress = { id, resume, timer: setTimeout(() => finish(false), pauseLimitMs) };
          this.abandon = () => finish(false);
          this.worker.postMessage({ truncateNow: id });
        })();
        return;
      }
      // A late answer to an abandoned attempt changes nothing: the next one is asked for anew.
      if (inProgress && m.truncated === inProgress.id) finish(m.ok);
    });
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
  if (m && typeof m === 'object' && 'truncateNow' in m) {
    // The server's queries are paused: copy what is left, fsync, cut the file, answer.
    // Never wait for a lock here: anyone holding one is retried later, not waited for.
    let ok = false;
    db.pragma('busy_timeout = 0');
    try {
      const [r] = db.pragma('wal_checkpoint(TRUNCATE)');
      ok = !!r && r.busy === 0;
    } catch (err) {
      if (!SKIP.has(err && err.code)) throw err;
    } finally {
      db.pragma('busy_timeout = 5000');
    }
    parentPort.postMessage({ truncated: m.truncateNow, ok });
    return;
  }
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
  // Under continuous writes SQLite never starts the WAL over (that needs a moment with
  // everything copied before a write begins), so it grows by everything written, hundreds
  // of MB a second under load: past walLimitFrames it is cut at once, not after the delay.
  if (wrote && now - dirtySince < workerData.truncateMaxDelayMs && !(r && r.log > workerData.walLimitFrames)) return;
  if (!r || r.busy !== 0 || r.log !== r.checkpointed) return;
  // Copy once more right before asking (that copy and its fsync were the long part), so
  // that in the pause only the frames of the message's round trip are left.
  const [again] = db.pragma('wal_checkpoint(PASSIVE)');
  if (!again || again.busy !== 0 || again.log !== again.checkpointed) return;
  asked = true;
  parentPort.postMessage('truncate');
}
`;
