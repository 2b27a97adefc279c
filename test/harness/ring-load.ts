import { RawDevice, type RawCredentials, type RawEnvelope } from './raw-device.js';

interface Sent {
  seq: number;
  sentAt: number;
  ackedAt?: number;
  /** Unknown outcome: may or may not arrive. */
  unknown?: boolean;
  refused?: number;
}

interface Delivery {
  guid: string;
  seq: number;
  at: number;
}

export interface RingReport {
  devices: number;
  durationMs: number;
  acked: number;
  unknown: number;
  refused: number;
  /** Acked messages that never arrived. */
  lost: number;
  /** Distinct messages (by guid) that arrived more than once as distinct guids for one seq: a duplicate to the user. */
  duplicates: number;
  /** The same envelope pushed again (an ack lost with a node): dropped by guid, as clients do. */
  redeliveries: number;
  /** Per-sender order broken (a later seq before an earlier one). */
  outOfOrder: number;
  msgsPerSecond: number;
  /** Longest send → first delivery of one acked message. */
  maxLatencyMs: number;
  p99LatencyMs: number;
  /** Longest stretch during the run with no delivery anywhere. */
  longestQuietMs: number;
  reconnects: number;
}

/**
 * A ring of devices: device i sends numbered messages to device i+1 over its socket,
 * one at a time, paced to `intervalMs` each. Each receiver has exactly one sender, so
 * per-sender order is its sequence order. Contents are "tag:seq": a ring ignores (but
 * acks) what an earlier ring left behind.
 */
export class RingLoad {
  private readonly devices: RawDevice[];
  private readonly sent: Sent[][];
  private readonly received: Delivery[][];
  private running = false;
  private loops: Promise<void>[] = [];
  private startedAt = 0;
  private stoppedAt = 0;
  private readonly deliveryTimes: number[] = [];

  constructor(
    creds: RawCredentials[],
    nodes: () => string[],
    private readonly opts: { intervalMs: number; tag: string },
  ) {
    this.sent = creds.map(() => []);
    this.received = creds.map(() => []);
    this.devices = creds.map(
      (c, i) =>
        new RawDevice(c, nodes, (e) => this.onEnvelope(i, e)),
    );
  }

  private onEnvelope(i: number, e: RawEnvelope): void {
    const text = Buffer.from(e.content, 'base64').toString();
    const [tag, seq] = text.split(':');
    if (tag !== this.opts.tag) return;
    const at = Date.now();
    this.received[i]!.push({ guid: e.guid, seq: Number(seq), at });
    this.deliveryTimes.push(at);
  }

  async connect(): Promise<void> {
    for (const d of this.devices) d.start();
    await Promise.all(this.devices.map((d) => d.ready(30_000)));
  }

  start(): void {
    this.running = true;
    this.startedAt = Date.now();
    const n = this.devices.length;
    this.loops = this.devices.map(async (d, i) => {
      const to = this.devices[(i + 1) % n]!.creds;
      // Spread the senders over the interval so the load is steady, not bursts.
      await sleep(Math.random() * this.opts.intervalMs);
      let seq = 0;
      while (this.running) {
        const s: Sent = { seq: ++seq, sentAt: Date.now() };
        this.sent[i]!.push(s);
        const body = {
          timestamp: s.sentAt,
          messages: [{ deviceId: to.deviceId, registrationId: to.registrationId, type: 2, content: Buffer.from(`${this.opts.tag}:${s.seq}`).toString('base64') }],
        };
        const r = await d.send(to.accountId, body);
        if (!r) s.unknown = true;
        else if (r.status === 200) s.ackedAt = Date.now();
        else s.refused = r.status;
        await sleep(Math.max(0, this.opts.intervalMs - (Date.now() - s.sentAt)) * (0.8 + Math.random() * 0.4));
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.stoppedAt = Date.now();
  }

  /** Every acked message has arrived (false after `timeoutMs`). */
  async settle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.missing() === 0) return true;
      if (Date.now() > deadline) return false;
      await sleep(100);
    }
  }

  private missing(): number {
    let missing = 0;
    for (let i = 0; i < this.devices.length; i++) {
      const got = new Set(this.received[(i + 1) % this.devices.length]!.map((d) => d.seq));
      for (const s of this.sent[i]!) if (s.ackedAt && !got.has(s.seq)) missing++;
    }
    return missing;
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.stop()));
  }

  /** Deliveries since `since` (to watch that delivery continues). */
  deliveredSince(since: number): number {
    let n = 0;
    for (let i = this.deliveryTimes.length - 1; i >= 0 && this.deliveryTimes[i]! >= since; i--) n++;
    return n;
  }

  ackedSince(since: number): Array<{ sender: number; seq: number }> {
    const out: Array<{ sender: number; seq: number }> = [];
    this.sent.forEach((list, sender) => list.forEach((s) => s.ackedAt && s.sentAt >= since && out.push({ sender, seq: s.seq })));
    return out;
  }

  report(): RingReport {
    const n = this.devices.length;
    let acked = 0;
    let unknown = 0;
    let refused = 0;
    let lost = 0;
    let duplicates = 0;
    let redeliveries = 0;
    let outOfOrder = 0;
    const latencies: number[] = [];
    for (let i = 0; i < n; i++) {
      const sent = this.sent[i]!;
      const got = this.received[(i + 1) % n]!;
      // As a client does: the first copy of a guid counts, repeats are dropped.
      const seenGuids = new Set<string>();
      const firstBySeq = new Map<number, Delivery>();
      // Order is promised among acknowledged sends: one whose answer was lost may commit
      // late, after the sender moved on (the SDK would resend it first, same timestamp).
      const ackedSeqs = new Set(sent.filter((s) => s.ackedAt).map((s) => s.seq));
      let lastSeq = 0;
      for (const d of got) {
        if (seenGuids.has(d.guid)) {
          redeliveries++;
          continue;
        }
        seenGuids.add(d.guid);
        if (firstBySeq.has(d.seq)) duplicates++;
        else firstBySeq.set(d.seq, d);
        if (!ackedSeqs.has(d.seq)) continue;
        if (d.seq <= lastSeq) outOfOrder++;
        lastSeq = Math.max(lastSeq, d.seq);
      }
      for (const s of sent) {
        if (s.unknown) unknown++;
        if (s.refused) refused++;
        if (!s.ackedAt) continue;
        acked++;
        const d = firstBySeq.get(s.seq);
        if (!d) lost++;
        else latencies.push(d.at - s.sentAt);
      }
    }
    latencies.sort((a, b) => a - b);
    const times = [...this.deliveryTimes].sort((a, b) => a - b);
    let longestQuietMs = 0;
    for (let i = 1; i < times.length; i++) if (times[i]! <= this.stoppedAt) longestQuietMs = Math.max(longestQuietMs, times[i]! - times[i - 1]!);
    const durationMs = (this.stoppedAt || Date.now()) - this.startedAt;
    return {
      devices: n,
      durationMs,
      acked,
      unknown,
      refused,
      lost,
      duplicates,
      redeliveries,
      outOfOrder,
      msgsPerSecond: Math.round((acked / durationMs) * 1000),
      maxLatencyMs: latencies.at(-1) ?? 0,
      p99LatencyMs: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
      longestQuietMs,
      reconnects: this.devices.reduce((a, d) => a + d.reconnects, 0),
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
