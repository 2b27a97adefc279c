import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { AckBatcher } from './ack-batcher.js';
import { decodeServerFrame, encodeClientFrame } from '@kluis/protocol';
import type { BenchPeer } from './accounts.js';
import { percentile } from './proc-stats.js';

/** How the driver reaches one target: kluis (authenticated) or the bare relay. */
export interface Target {
  name: string;
  socketUrl(peer: BenchPeer): string;
  headers(peer: BenchPeer): Record<string, string>;
  /**
   * Sealed sends (the SDK's default once contacts exchanged profile keys): each peer also
   * opens this unauthenticated socket and sends over it, with the recipient's access key.
   */
  sealedSocketUrl?(peer: BenchPeer): string;
}

const SEALED = 6;
const WHISPER = 2;

export interface ThroughputResult {
  sent: number;
  delivered: number;
  duplicates: number;
  missing: number;
  failedSends: number;
  seconds: number;
  msgsPerSec: number;
  /** The driver's own CPU time over the phase's wall time (1 = one core busy): near 1, the figure is the driver's. */
  generatorCpu: number;
}

export interface LatencyResult {
  rate: number;
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  generatorCpu: number;
}

/**
 * Drives N device sockets from one process: each send goes out as a binary `send` frame
 * over the sender's socket (or a `sealedSend` over its sealed socket), each delivery is
 * acked at once. The sequence number rides in the ciphertext's first 6 bytes (a sealed
 * envelope carries no timestamp), so counting needs no decryption.
 */
export class LoadDriver {
  private sockets: WebSocket[] = [];
  private sealedSockets: WebSocket[] = [];
  private readonly content: Buffer;
  private inflight = 0;
  private nextId = 1;
  private onResponse: (status: number) => void = () => {};
  private onDeliver: (seq: number) => void = () => {};
  private readonly acks = new AckBatcher();

  constructor(
    private readonly target: Target,
    private readonly peers: BenchPeer[],
    payloadBytes: number,
  ) {
    const bytes = Buffer.alloc(Math.max(8, payloadBytes));
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
    this.content = bytes;
  }

  private open(url: string, headers: Record<string, string>): Promise<WebSocket> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    return new Promise<WebSocket>((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`socket refused: ${res.statusCode}`)));
    });
  }

  async connect(progress: (n: number) => void): Promise<void> {
    let next = 0;
    const open = async () => {
      while (next < this.peers.length) {
        const i = next++;
        const peer = this.peers[i]!;
        const ws = await this.open(this.target.socketUrl(peer), this.target.headers(peer));
        ws.on('message', (data) => this.handle(ws, data as Buffer));
        this.sockets[i] = ws;
        if (this.target.sealedSocketUrl) {
          const sealed = await this.open(this.target.sealedSocketUrl(peer), {});
          sealed.on('message', (data) => this.handle(sealed, data as Buffer));
          this.sealedSockets[i] = sealed;
        }
        if ((i + 1) % 500 === 0) progress(i + 1);
      }
    };
    await Promise.all(Array.from({ length: 32 }, open));
    progress(this.peers.length);
  }

  private handle(ws: WebSocket, data: Buffer): void {
    const f = decodeServerFrame(data).frame;
    if (f.case === 'response') {
      this.inflight--;
      this.onResponse(f.value.status);
    } else if (f.case === 'envelope') {
      const c = f.value.content;
      this.onDeliver(c[0]! * 2 ** 40 + c[1]! * 2 ** 32 + ((c[2]! << 24) >>> 0) + (c[3]! << 16) + (c[4]! << 8) + c[5]!);
      this.acks.add(ws, f.value.guid);
    }
  }

  private send(seq: number): void {
    const n = this.peers.length;
    const from = seq % n;
    let to = Math.floor(Math.random() * n);
    if (to === from) to = (to + 1) % n;
    const dest = this.peers[to]!;
    this.inflight++;
    const content = Buffer.from(this.content);
    content.writeUIntBE(seq, 0, 6);
    const id = BigInt(this.nextId++);
    if (this.target.sealedSocketUrl) {
      const messages = [{ deviceId: 1, registrationId: dest.registrationId, type: SEALED, content }];
      this.sealedSockets[from]!.send(encodeClientFrame({ frame: { case: 'sealedSend', value: { id, destination: dest.accountId, accessKey: dest.accessKey, messages } } }));
      return;
    }
    const messages = [{ deviceId: 1, registrationId: dest.registrationId, type: WHISPER, content }];
    this.sockets[from]!.send(encodeClientFrame({ frame: { case: 'send', value: { id, destination: dest.accountId, timestamp: BigInt(seq), messages } } }));
  }

  /** Sends `count` envelopes keeping `window` in flight; waits for every delivery (or 60 s). */
  async throughput(count: number, window: number, seqBase: number, progress: (n: number) => void): Promise<ThroughputResult> {
    const seen = new Uint8Array(count);
    let delivered = 0;
    let duplicates = 0;
    let sent = 0;
    let ok = 0;
    let failed = 0;
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    let lastDelivery = start;
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (this.inflight < window && sent < count) this.send(seqBase + sent++);
      };
      let deadline: NodeJS.Timeout | undefined;
      const maybeDone = () => {
        if (sent === count && ok + failed === count && delivered >= ok) {
          clearTimeout(deadline);
          resolve();
        }
      };
      this.onResponse = (status) => {
        if (status === 200) ok++;
        else failed++;
        pump();
        maybeDone();
      };
      this.onDeliver = (seq) => {
        const i = seq - seqBase;
        if (i < 0 || i >= count) return;
        if (seen[i]) duplicates++;
        else {
          seen[i] = 1;
          delivered++;
          lastDelivery = performance.now();
          if (delivered % 20_000 === 0) progress(delivered);
        }
        maybeDone();
      };
      deadline = setTimeout(resolve, 120_000 + count / 10);
      pump();
    });
    const seconds = (lastDelivery - start) / 1000;
    const generatorCpu = cpuOver(cpu0, (performance.now() - start) / 1000);
    return { sent, delivered, duplicates, missing: ok - delivered, failedSends: failed, seconds, msgsPerSec: delivered / seconds, generatorCpu };
  }

  /** Sends at a fixed rate for `seconds`, measuring send→deliver latency per message. */
  async latency(rate: number, seconds: number, seqBase: number): Promise<LatencyResult> {
    const total = rate * seconds;
    const sentAt = new Float64Array(total);
    const latencies: number[] = [];
    this.onResponse = () => {};
    this.onDeliver = (seq) => {
      const i = seq - seqBase;
      if (i >= 0 && i < total && sentAt[i]) latencies.push(performance.now() - sentAt[i]!);
    };
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    let sent = 0;
    let sendEnd = start;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
        while (sent < due) {
          sentAt[sent] = performance.now();
          this.send(seqBase + sent++);
        }
        if (sent < total) setTimeout(tick, 1);
        else {
          sendEnd = performance.now();
          setTimeout(resolve, 2_000); // let the last deliveries arrive
        }
      };
      tick();
    });
    latencies.sort((a, b) => a - b);
    return {
      rate,
      count: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1] ?? NaN,
      generatorCpu: cpuOver(cpu0, (sendEnd - start) / 1000 + 2),
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.sockets, ...this.sealedSockets].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.close();
          }),
      ),
    );
  }
}

function cpuOver(since: NodeJS.CpuUsage, wallSeconds: number): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6 / wallSeconds;
}
