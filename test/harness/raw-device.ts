import WebSocket from 'ws';
import { clientFrameFromJson, serverFrameToJson, type JsonClientFrame } from '@kluis/protocol';

/** What a raw device needs: its credentials and how to address it in a send. */
export interface RawCredentials {
  accountId: string;
  deviceId: number;
  registrationId: number;
  auth: string;
}

export interface RawEnvelope {
  guid: string;
  content: string;
  serverTimestamp: number;
}

/** Undefined when the outcome is unknown (the socket dropped before the answer). */
export type SendResult = { status: number } | undefined;

/**
 * A device speaking the socket protocol directly (no libsignal), for load and chaos
 * tests where thousands of messages a second must be cheap to make and check. Like a
 * real client it reconnects on its own to another node, with jittered exponential
 * backoff, and acks an envelope only after its handler recorded it.
 */
export class RawDevice {
  private ws: WebSocket | undefined;
  private open = false;
  private stopped = false;
  private nextId = 1;
  private failures = 0;
  private readonly pending = new Map<number, (r: SendResult) => void>();
  private readonly waiters: Array<() => void> = [];
  private acks: string[] = [];
  private ackScheduled = false;
  /** Node URL → when it last failed: avoided for a second, as the SDK's ServerList does. */
  private readonly failedAt = new Map<string, number>();
  reconnects = 0;

  constructor(
    readonly creds: RawCredentials,
    private readonly nodes: () => string[],
    private readonly onEnvelope: (e: RawEnvelope) => void,
  ) {}

  get connected(): boolean {
    return this.open;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.flushAcks();
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1000);
    });
  }

  /** Resolves when the socket is open (or after `timeoutMs`, false). */
  async ready(timeoutMs = 10_000): Promise<boolean> {
    if (this.open) return true;
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** A 'send' frame; waits for the socket first. */
  async send(destination: string, body: Extract<JsonClientFrame, { type: 'send' }>['body'], timeoutMs = 10_000): Promise<SendResult> {
    if (!(await this.ready(timeoutMs)) || !this.ws) return undefined;
    const id = this.nextId++;
    return new Promise<SendResult>((resolve) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.ws!.send(clientFrameFromJson({ type: 'send', id, destination, body }));
    });
  }

  private pick(): string {
    const now = Date.now();
    const all = this.nodes();
    const healthy = all.filter((u) => !(now - (this.failedAt.get(u) ?? 0) < 1_000));
    const from = healthy.length > 0 ? healthy : all;
    return from[Math.floor(Math.random() * from.length)]!;
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.pick();
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/v1/socket', { headers: { authorization: this.creds.auth } });
    this.ws = ws;
    ws.on('open', () => {
      this.open = true;
      this.failures = 0;
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('message', (data) => {
      const frame = serverFrameToJson(data as Buffer) as { type: string; id?: number; status?: number; envelope?: RawEnvelope };
      if (frame.type === 'envelope') {
        this.onEnvelope(frame.envelope!);
        this.ack(frame.envelope!.guid);
      } else if (frame.type === 'response') {
        const done = this.pending.get(frame.id!);
        this.pending.delete(frame.id!);
        done?.({ status: frame.status! });
      }
    });
    ws.on('error', () => {});
    ws.on('unexpected-response', () => ws.terminate());
    ws.on('close', () => {
      if (ws !== this.ws) return;
      const wasOpen = this.open;
      this.open = false;
      this.ws = undefined;
      this.acks = [];
      for (const [, done] of this.pending) done(undefined);
      this.pending.clear();
      if (this.stopped) return;
      this.failedAt.set(url, Date.now());
      this.reconnects++;
      if (!wasOpen) this.failures++;
      // Jittered exponential backoff: 50 ms doubling to at most 2 s.
      const delay = 25 + Math.random() * Math.min(2_000, 50 * 2 ** this.failures);
      setTimeout(() => this.connect(), delay).unref();
    });
  }

  private ack(guid: string): void {
    this.acks.push(guid);
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => this.flushAcks());
  }

  private flushAcks(): void {
    this.ackScheduled = false;
    while (this.acks.length > 0 && this.open && this.ws) {
      this.ws.send(clientFrameFromJson({ type: 'ack', guids: this.acks.splice(0, 100) }));
    }
  }
}
