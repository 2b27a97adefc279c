import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage } from './group-receivers.js';
import { RECORD_FIELDS } from './group-receivers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Records {
  records: Float64Array;
  count: number;
  distributions: number;
  duplicates: number;
  errors: number;
  firstErrors: string[];
}

/** The members' process: request/response over IPC, with its clock offset measured. */
export class Members {
  private waiters: Array<(m: ChildMessage) => boolean> = [];
  /** child clock − our clock, ms */
  offset = 0;

  private constructor(readonly child: ChildProcess, log: (s: string) => void) {
    child.on('message', (m: ChildMessage) => {
      if (m.evt === 'log') return log(m.msg);
      const i = this.waiters.findIndex((w) => w(m));
      if (i >= 0) this.waiters.splice(i, 1);
    });
  }

  static async start(log: (s: string) => void): Promise<Members> {
    const child = fork(fileURLToPath(new URL('./group-receivers.ts', import.meta.url)), [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const m = new Members(child, log);
    child.once('exit', (code) => {
      if (code !== 0) log(`group members' process exited with ${code}`);
    });
    // Clock offset from the round trip with the smallest delay.
    let best = Infinity;
    for (let k = 0; k < 20; k++) {
      const t = now();
      const pong = await m.request({ cmd: 'ping', t }, (x) => x.evt === 'pong' && x.t === t, 10_000);
      const t1 = now();
      if (pong.evt === 'pong' && t1 - t < best) {
        best = t1 - t;
        m.offset = pong.tc - (t + t1) / 2;
      }
    }
    return m;
  }

  request(msg: ParentMessage, match: (m: ChildMessage) => boolean, timeoutMs: number): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`group members: no answer to ${msg.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (m: ChildMessage) => {
        if (!match(m)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      };
      this.waiters.push(waiter);
      this.child.send(msg);
    });
  }

  /** Resolves once `n` group messages were decrypted since the last collect (false on timeout). */
  async expect(n: number, timeoutMs: number): Promise<boolean> {
    try {
      await this.request({ cmd: 'expect', n }, (m) => m.evt === 'reached', timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  async collect(): Promise<Records> {
    const m = await this.request({ cmd: 'collect' }, (x) => x.evt === 'records', 60_000);
    if (m.evt !== 'records') throw new Error('unreachable');
    // Into our clock.
    for (let k = 0; k < m.count; k++) {
      m.records[k * RECORD_FIELDS + 2]! -= this.offset;
      m.records[k * RECORD_FIELDS + 3]! -= this.offset;
    }
    return m;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'stop' });
    await Promise.race([exited, sleep(5_000).then(() => this.child.kill('SIGKILL'))]);
  }
}
