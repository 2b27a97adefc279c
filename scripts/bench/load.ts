import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { BenchPeer } from './accounts.js';
import { percentile } from './proc-stats.js';

/** How the driver reaches one target: kluis (authenticated) or the bare relay. */
export interface Target {
  name: string;
  socketUrl(peer: BenchPeer): string;
  headers(peer: BenchPeer): Record<string, string>;
}

export interface ThroughputResult {
  sent: number;
  delivered: number;
  duplicates: number;
  missing: number;
  failedSends: number;
  seconds: number;
  msgsPerSec: number;
}

export interface LatencyResult {
  rate: number;
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Drives N device sockets from one process: each send goes out as a 'send' frame over
 * the sender's socket, each delivery is acked at once. The sequence number rides in the
 * message timestamp so the driver needn't decode the ciphertext to count deliveries.
 */
export class LoadDriver {
  private sockets: WebSocket[] = [];
  private readonly content: string;
  private inflight = 0;
  private nextId = 1;
  private onResponse: (status: number) => void = () => {};
  private onDeliver: (seq: number) => void = () => {};
  private readonly pendingAcks = new Map<WebSocket, string[]>();
  private ackScheduled = false;

  constructor(
    private readonly target: Target,
    private readonly peers: BenchPeer[],
    payloadBytes: number,
  ) {
    const bytes = Buffer.alloc(payloadBytes);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
    this.content = bytes.toString('base64');
  }

  async connect(progress: (n: number) => void): Promise<void> {
    let next = 0;
    const open = async () => {
      while (next < this.peers.length) {
        const i = next++;
        const peer = this.peers[i]!;
        const ws = new WebSocket(this.target.socketUrl(peer), { headers: this.target.headers(peer), perMessageDeflate: false });
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
          ws.once('unexpected-response', (_req, res) => reject(new Error(`socket refused: ${res.statusCode}`)));
        });
        ws.on('message', (data) => this.handle(ws, data.toString()));
        this.sockets[i] = ws;
        if ((i + 1) % 500 === 0) progress(i + 1);
      }
    };
    await Promise.all(Array.from({ length: 32 }, open));
    progress(this.peers.length);
  }

  private handle(ws: WebSocket, text: string): void {
    const frame = JSON.parse(text) as { type: string; status?: number; envelope?: { guid: string; timestamp: number } };
    if (frame.type === 'response') {
      this.inflight--;
      this.onResponse(frame.status!);
    } else if (frame.type === 'envelope') {
      this.onDeliver(frame.envelope!.timestamp);
      let acks = this.pendingAcks.get(ws);
      if (!acks) this.pendingAcks.set(ws, (acks = []));
      acks.push(frame.envelope!.guid);
      if (!this.ackScheduled) {
        this.ackScheduled = true;
        setImmediate(() => this.flushAcks());
      }
    }
  }

  private flushAcks(): void {
    this.ackScheduled = false;
    for (const [ws, guids] of this.pendingAcks) {
      for (let i = 0; i < guids.length; i += 256) {
        ws.send(JSON.stringify({ type: 'ack', guids: guids.slice(i, i + 256) }));
      }
    }
    this.pendingAcks.clear();
  }

  private send(seq: number): void {
    const n = this.peers.length;
    const from = seq % n;
    let to = Math.floor(Math.random() * n);
    if (to === from) to = (to + 1) % n;
    const dest = this.peers[to]!;
    this.inflight++;
    this.sockets[from]!.send(
      `{"type":"send","id":${this.nextId++},"destination":"${dest.accountId}","body":{"timestamp":${seq},"messages":[{"deviceId":1,"registrationId":${dest.registrationId},"type":2,"content":"${this.content}"}]}}`,
    );
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
    return { sent, delivered, duplicates, missing: ok - delivered, failedSends: failed, seconds, msgsPerSec: delivered / seconds };
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
    let sent = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
        while (sent < due) {
          sentAt[sent] = performance.now();
          this.send(seqBase + sent++);
        }
        if (sent < total) setTimeout(tick, 1);
        else setTimeout(resolve, 2_000); // let the last deliveries arrive
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
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sockets.map(
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
