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
 */
export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(file: string, intervalMs: number, onFailure: (err: unknown) => void) {
    const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');
    // Plain JS (eval) so the worker needs no TypeScript loader, whatever runs the server.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs, betterSqlite3 } });
    this.worker.unref();
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
const { workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
// The checkpointer syncs the database file after copying pages into it.
db.pragma('synchronous = NORMAL');
setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.intervalMs);
`;
