/**
 * `npm run bench -- --seed-load`: the reference service's whole volume replayed against
 * one fresh kluis server. Accounts are split in two halves; in each round one half is
 * connected (receiving live, acking at once, and sending to random recipients of both
 * halves) while the other half's messages are queued durably. Then the halves swap: the
 * offline half connects, drains its backlog and sends. A last phase drains the half left
 * offline, so every message sent has been delivered when it ends.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { AckBatcher } from './ack-batcher.js';
import { decodeServerFrame, encodeClientFrame } from '@kluis/protocol';
import { registerPeers, type BenchPeer } from './accounts.js';
import { startKluisServer, stopChild } from './children.js';
import { cpuSeconds, rssBytes } from './proc-stats.js';

export interface SeedLoadOptions {
  messages: number;
  accounts: number;
  /** Send rounds; each swaps which half is connected. A final drain round follows. */
  rounds: number;
  /** Sends in flight at once. */
  window: number;
  payload: number;
  /** The replay stops here, whatever it has done, and reports what it got. */
  timeLimitSeconds: number;
}

export interface SeedPhase {
  label: string;
  seconds: number;
  sent: number;
  delivered: number;
}

export interface SeedLoadResult {
  options: SeedLoadOptions;
  registerSeconds: number;
  wallSeconds: number;
  /** Sends the server answered 200. */
  sent: number;
  /** Of those, to a recipient that was offline (stored, delivered from its backlog later). */
  queued: number;
  received: number;
  duplicates: number;
  missing: number;
  failedSends: number;
  /** Delivered on the socket of an account that was not the recipient. */
  misrouted: number;
  /** Sockets the server closed (e.g. as a slow consumer) while they were meant to be connected. */
  droppedSockets: number;
  msgsPerSec: number;
  serverCpuSeconds: number;
  serverCpuUsPerMessage: number;
  generatorCpu: number;
  peakServerRss: number;
  databaseBytes: number;
  walBytes: number;
  phases: SeedPhase[];
  /** Why the replay ended early ('time limit', 'stalled'); undefined when it completed. */
  stopped?: string;
}

const WHISPER = 2;
/** Random bytes the payloads are cut from (a fresh buffer per message would be 2.3 GB). */
const POOL_BYTES = 64 * 1024 * 1024;
/** Offsets step by a prime so neighbouring messages do not share their bytes. */
const POOL_STRIDE = 1031;
/** No send answer and no delivery for this long: the replay is stuck, stop it. */
const STALL_MS = 60_000;
const CONNECT_CONCURRENCY = 32;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seqOf = (c: Uint8Array) => c[0]! * 2 ** 40 + c[1]! * 2 ** 32 + ((c[2]! << 24) >>> 0) + (c[3]! << 16) + (c[4]! << 8) + c[5]!;

class Stopped extends Error {
  constructor(readonly code: 'time limit' | 'stalled') {
    super(code);
  }
}

/**
 * All accounts' sockets in this one process. Counts per recipient what the server
 * accepted for it and what arrived on its socket; the sequence number rides in the
 * payload's first 6 bytes (as in load.ts), the send id is the sequence number + 1.
 */
class SeedDriver {
  private readonly sockets: Array<WebSocket | undefined>;
  private readonly online: Uint8Array;
  /** seq → recipient index + 1 (0: not sent). */
  private readonly recipientOf: Uint32Array;
  private readonly seen: Uint8Array;
  readonly sentTo: Uint32Array;
  readonly receivedBy: Uint32Array;
  private readonly pool: Buffer;
  private readonly acks = new AckBatcher();
  /** Accepted for connected accounts and not arrived yet (may dip below 0: a delivery can beat its send's answer). */
  private owed = 0;
  inflight = 0;
  next = 0;
  sent = 0;
  queued = 0;
  failed = 0;
  received = 0;
  duplicates = 0;
  misrouted = 0;
  dropped = 0;
  lastProgress = performance.now();
  private onResponse: () => void = () => {};

  constructor(
    private readonly peers: BenchPeer[],
    private readonly opts: SeedLoadOptions,
    private readonly url: string,
    private readonly progress: (s: string) => void,
  ) {
    const n = peers.length;
    this.sockets = new Array(n);
    this.online = new Uint8Array(n);
    this.sentTo = new Uint32Array(n);
    this.receivedBy = new Uint32Array(n);
    this.recipientOf = new Uint32Array(opts.messages);
    this.seen = new Uint8Array(opts.messages);
    this.pool = randomBytes(POOL_BYTES + opts.payload);
  }

  half(h: number): number[] {
    const out: number[] = [];
    for (let i = h; i < this.peers.length; i += 2) out.push(i);
    return out;
  }

  async connect(indices: number[], deadline: number): Promise<void> {
    let k = 0;
    const open = async () => {
      while (k < indices.length) {
        if (performance.now() > deadline) throw new Stopped('time limit');
        const i = indices[k++]!;
        // Online before the socket opens: its backlog starts arriving with the upgrade.
        this.online[i] = 1;
        this.owed += this.sentTo[i]! - this.receivedBy[i]!;
        this.sockets[i] = await this.open(i);
      }
    };
    await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, open));
    // Opening sockets is progress too: the stall clock starts after it.
    this.lastProgress = performance.now();
  }

  private open(i: number): Promise<WebSocket> {
    const peer = this.peers[i]!;
    const ws = new WebSocket(`${this.url}/v1/socket`, { headers: { authorization: peer.authorization }, perMessageDeflate: false });
    ws.on('message', (data: Buffer) => this.handle(i, ws, data));
    ws.on('close', () => {
      // Closed by the server: what it is owed stays queued, and is no longer waited for.
      if (this.sockets[i] === ws && this.online[i]) {
        this.dropped++;
        this.online[i] = 0;
        this.owed -= this.sentTo[i]! - this.receivedBy[i]!;
      }
    });
    return new Promise<WebSocket>((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`socket refused: ${res.statusCode}`)));
    });
  }

  /** Flushes the half's acks, then closes its sockets (what it was owed has arrived by now). */
  async disconnect(indices: number[]): Promise<void> {
    this.acks.flush();
    await Promise.all(
      indices.map((i) => {
        const ws = this.sockets[i];
        this.online[i] = 0;
        this.owed -= this.sentTo[i]! - this.receivedBy[i]!;
        this.sockets[i] = undefined;
        if (!ws || ws.readyState === WebSocket.CLOSED) return undefined;
        return new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.close();
        });
      }),
    );
  }

  private handle(i: number, ws: WebSocket, data: Buffer): void {
    const f = decodeServerFrame(data).frame;
    if (f.case === 'response') {
      this.inflight--;
      this.lastProgress = performance.now();
      const seq = Number(f.value.id) - 1;
      const r = this.recipientOf[seq]! - 1;
      if (f.value.status === 200) {
        this.sent++;
        this.sentTo[r]!++;
        if (this.online[r]) this.owed++;
        else this.queued++;
      } else {
        if (this.failed++ < 5) this.progress(`  send ${seq} answered ${f.value.status}: ${f.value.body.slice(0, 200)}`);
        this.recipientOf[seq] = 0;
      }
      this.onResponse();
    } else if (f.case === 'envelope') {
      this.lastProgress = performance.now();
      const seq = seqOf(f.value.content);
      if (seq >= this.seen.length || this.recipientOf[seq]! - 1 !== i) this.misrouted++;
      else if (this.seen[seq]) this.duplicates++;
      else {
        this.seen[seq] = 1;
        this.received++;
        this.receivedBy[i]!++;
        if (this.online[i]) this.owed--;
        if (this.received % 100_000 === 0) this.progress(`  ${this.received.toLocaleString('en-US')} delivered`);
      }
      this.acks.add(ws, f.value.guid);
    }
  }

  private send(seq: number, senders: number[]): void {
    const n = this.peers.length;
    const from = senders[seq % senders.length]!;
    let to = Math.floor(Math.random() * n);
    if (to === from) to = (to + 1) % n;
    const dest = this.peers[to]!;
    this.recipientOf[seq] = to + 1;
    const off = (seq * POOL_STRIDE) % POOL_BYTES;
    const content = this.pool.subarray(off, off + this.opts.payload);
    // Written into the pool itself: the encoder copies the bytes before the next send.
    content.writeUIntBE(seq, 0, 6);
    this.inflight++;
    const messages = [{ deviceId: 1, registrationId: dest.registrationId, type: WHISPER, content }];
    this.sockets[from]!.send(encodeClientFrame({ frame: { case: 'send', value: { id: BigInt(seq + 1), destination: dest.accountId, timestamp: BigInt(seq), messages } } }));
  }

  /** Sends messages [next, end) from `senders`, `window` in flight, until all are answered. */
  async sendUpTo(end: number, senders: number[], deadline: number): Promise<void> {
    const pump = () => {
      while (this.inflight < this.opts.window && this.next < end) this.send(this.next++, senders);
    };
    this.onResponse = pump;
    try {
      pump();
      await this.until(() => this.next >= end && this.inflight === 0, deadline);
    } finally {
      this.onResponse = () => {};
    }
  }

  /** Until every message accepted for a connected account has arrived there. */
  settle(deadline: number): Promise<void> {
    return this.until(() => this.inflight === 0 && this.owed <= 0, deadline);
  }

  private async until(done: () => boolean, deadline: number): Promise<void> {
    while (!done()) {
      const now = performance.now();
      if (now > deadline) throw new Stopped('time limit');
      if (now - this.lastProgress > STALL_MS) throw new Stopped('stalled');
      await sleep(5);
    }
  }

  /** Closes whatever is still open (after a stop). */
  async closeAll(): Promise<void> {
    this.acks.flush();
    const all: number[] = [];
    for (let i = 0; i < this.sockets.length; i++) if (this.sockets[i]) all.push(i);
    await this.disconnect(all);
  }
}

async function fileBytes(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

/** Starts its own server (fresh data directory), registers the accounts, replays, reports. */
export async function benchSeedLoad(opts: SeedLoadOptions, log: (s: string) => void): Promise<SeedLoadResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kluis-seed-'));
  log(`seed load: starting a kluis server (data in ${dataDir})`);
  const server = await startKluisServer(dataDir);
  try {
    const pid = server.child.pid!;
    const token = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
    log(`seed load: registering ${opts.accounts} accounts`);
    const t0 = performance.now();
    const peers = await registerPeers(server.url, token, opts.accounts, (n) => {
      if (n % 1000 === 0 || n === opts.accounts) log(`  ${n}/${opts.accounts} registered`);
    });
    const registerSeconds = (performance.now() - t0) / 1000;
    const driver = new SeedDriver(peers, opts, server.url.replace(/^http/, 'ws'), log);
    const result = await replay(driver, opts, pid, log);
    // The database as the replay left it, before the server's shutdown checkpoint.
    const databaseBytes = await fileBytes(join(dataDir, 'kluis.db'));
    const walBytes = await fileBytes(join(dataDir, 'kluis.db-wal'));
    return { ...result, registerSeconds, databaseBytes, walBytes };
  } finally {
    await stopChild(server.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function replay(driver: SeedDriver, opts: SeedLoadOptions, pid: number, log: (s: string) => void): Promise<Omit<SeedLoadResult, 'registerSeconds' | 'databaseBytes' | 'walBytes'>> {
  const halves = [driver.half(0), driver.half(1)];
  const phases: SeedPhase[] = [];
  let peakServerRss = rssBytes(pid);
  const sampler = setInterval(() => (peakServerRss = Math.max(peakServerRss, rssBytes(pid))), 200);
  let stopped: string | undefined;
  const cpu0 = cpuSeconds(pid);
  const gen0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + opts.timeLimitSeconds * 1000;
  log(`seed load: ${opts.messages} × ${opts.payload} B among ${opts.accounts} accounts, ${opts.rounds} rounds + a final drain, window ${opts.window}, limit ${opts.timeLimitSeconds} s`);
  try {
    for (let round = 0; round <= opts.rounds; round++) {
      const h = round % 2;
      const final = round === opts.rounds;
      const label = final ? `drain half ${h}` : `round ${round + 1}: half ${h}`;
      const p0 = performance.now();
      const sent0 = driver.sent;
      const got0 = driver.received;
      await driver.connect(halves[h]!, deadline);
      if (!final) {
        const end = Math.round((opts.messages * (round + 1)) / opts.rounds);
        await driver.sendUpTo(end, halves[h]!, deadline);
      }
      await driver.settle(deadline);
      await driver.disconnect(halves[h]!);
      const phase = { label, seconds: (performance.now() - p0) / 1000, sent: driver.sent - sent0, delivered: driver.received - got0 };
      phases.push(phase);
      log(`  ${label}: ${phase.sent} sent, ${phase.delivered} delivered in ${phase.seconds.toFixed(1)} s (${driver.queued} queued for offline accounts so far)`);
    }
  } catch (err) {
    if (!(err instanceof Stopped)) throw err;
    stopped = err.code;
    log(`seed load: stopped (${err.code}) after ${((performance.now() - start) / 1000).toFixed(1)} s`);
    await driver.closeAll();
  } finally {
    clearInterval(sampler);
  }
  const wallSeconds = (performance.now() - start) / 1000;
  const serverCpuSeconds = cpuSeconds(pid) - cpu0;
  const gen = process.cpuUsage(gen0);
  peakServerRss = Math.max(peakServerRss, rssBytes(pid));
  let missing = 0;
  for (let i = 0; i < driver.sentTo.length; i++) missing += Math.max(0, driver.sentTo[i]! - driver.receivedBy[i]!);
  return {
    options: opts,
    wallSeconds,
    sent: driver.sent,
    queued: driver.queued,
    received: driver.received,
    duplicates: driver.duplicates,
    missing,
    failedSends: driver.failed,
    misrouted: driver.misrouted,
    droppedSockets: driver.dropped,
    msgsPerSec: driver.received / wallSeconds,
    serverCpuSeconds,
    serverCpuUsPerMessage: driver.received > 0 ? (serverCpuSeconds * 1e6) / driver.received : NaN,
    generatorCpu: (gen.user + gen.system) / 1e6 / wallSeconds,
    peakServerRss,
    phases,
    ...(stopped ? { stopped } : {}),
  };
}
