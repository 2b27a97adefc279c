import { randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { MultiSendRequest, SendRequest } from '@kluis/protocol';
import { ErrorCode, SocketCloseCode } from '@kluis/protocol';
import { ApiError, isStoreUnavailable } from '../errors.js';
import type { DeviceIdentity } from '../auth/device-auth.js';
import type { Db } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { EnvelopeStore } from '../store/envelopes.js';
import { deviceKey, type Bus, type DeviceEvent, type LiveEnvelope } from './bus.js';
import { envelopeFrame, errorFrame, parseClientFrame, PONG_FRAME, QUEUE_EMPTY_FRAME, responseFrame } from './frames.js';
import type { GroupCommitWriter } from './group-commit.js';
import { orderedCursorReader, type QueueReader, type QueueReaderFactory } from './queue-reader.js';
import { DEFAULT_SOCKET_LIMITS, PingAllowance, type ServerCloseReason, type SocketLimits } from './socket-limits.js';

export interface ConnectionDeps {
  db: Db;
  envelopes: EnvelopeStore;
  bus: Bus;
  writer: GroupCommitWriter;
  clock: () => number;
  log: Logger;
  /**
   * How a socket reads its device's queue (queueReaderFor(adapter.capabilities)): an
   * ordered cursor where one process writes, a rescan on wake where several do.
   * Default: the ordered cursor.
   */
  queueReader?: QueueReaderFactory;
  /** Counts pushed envelopes (metrics). */
  onPushed?: (count: number) => void;
  /** The account was suspended (another node's admin action): forget cached subscription state. */
  onSuspended?: (accountId: string) => void;
  /** The shared send implementation, answering like the HTTP route would. */
  send(sender: DeviceIdentity, destination: string, request: SendRequest): Promise<{ status: number; body: unknown }>;
  /** The shared multi-recipient send ('send-multi' frame), answering like PUT /v1/messages. */
  sendMulti(sender: DeviceIdentity, request: MultiSendRequest): Promise<{ status: number; body: unknown }>;
  /** Per-socket bounds (config: --socket-buffer-kib, --socket-pings-per-second). */
  socketLimits?: SocketLimits;
  /** A socket was closed by the server: its client did not read, pinged too often, or missed a heartbeat (metrics). */
  onServerClose?: (reason: ServerCloseReason) => void;
}

/** Above this many unsent bytes we stop pushing and wait for the socket to drain. */
const HIGH_WATER = 512 * 1024;
const MAX_INVALID_FRAMES = 20;
/** Unanswered sends per socket before we stop reading from it (TCP backpressure). */
const MAX_PENDING_SENDS = 256;
/** After the store failed to answer, the socket retries its queue read this much later. */
const STORE_RETRY_MS = 1_000;
/** A slow consumer gets its close frame this long before the socket (and its buffer) goes. */
const SLOW_CLOSE_GRACE_MS = 1_000;

/**
 * One device's WebSocket. The backlog is read from the database in pages (the queue
 * reader knows where to read and what this socket already pushed), then 'queue-empty',
 * then envelopes are pushed live as they commit where the reader allows it. Whenever
 * live pushing is not possible (backlog still draining, slow reader, a reader that must
 * re-read) events only mark the connection dirty and the queue is read again, so nothing
 * is reordered, skipped or pushed twice.
 */
export class DeviceConnection {
  readonly id = randomUUID();
  readonly key: string;
  /** Set by the heartbeat; cleared only by a pong that echoes the heartbeat's random payload. */
  awaitingPong = false;
  private pingPayload: Buffer | undefined;
  private readonly limits: SocketLimits;
  /** Stop pushing above this; well below the cap, so delivery alone never trips it. */
  private readonly highWater: number;
  private readonly pings: PingAllowance;
  private readonly reader: QueueReader;
  private live = false;
  private draining = false;
  private dirty = false;
  private queueEmptySent = false;
  private closed = false;
  private invalidFrames = 0;
  private pendingSends = 0;
  private paused = false;
  private unsubscribe: (() => void) | undefined;
  private writableWaiter: (() => void) | undefined;

  constructor(
    private readonly deps: ConnectionDeps,
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    readonly identity: DeviceIdentity,
    private readonly onClosed: (connection: DeviceConnection) => void,
  ) {
    this.key = deviceKey(identity.accountId, identity.deviceId);
    this.limits = deps.socketLimits ?? DEFAULT_SOCKET_LIMITS;
    this.pings = new PingAllowance(this.limits.pingsPerSecond);
    this.highWater = Math.min(HIGH_WATER, Math.floor(this.limits.bufferBytes / 4));
    this.reader = (deps.queueReader ?? orderedCursorReader)((afterId, limit) => deps.envelopes.page(deps.db, identity.accountId, identity.deviceId, afterId, limit));
  }

  start(): void {
    this.unsubscribe = this.deps.bus.subscribe(this.key, this.onEvent);
    // Tell any older connection of this device (on any node) to close.
    this.deps.bus.publish(this.key, { type: 'connected', connectionId: this.id });
    this.ws.on('message', this.onMessage);
    this.ws.on('close', this.onClose);
    this.ws.on('error', this.onError);
    this.ws.on('pong', this.onPong);
    // autoPong is off (socket-server.ts): pings are answered here, counted.
    this.ws.on('ping', this.onPing);
    this.deps.writer.touch(this.identity.accountId, this.identity.deviceId, this.deps.clock());
    void this.drain();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.shutdown();
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.shutdown();
    this.ws.terminate();
  }

  /** Resolves when the WebSocket is fully closed (after the close handshake). */
  closedPromise(): Promise<void> {
    if (this.ws.readyState === this.ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.ws.once('close', () => resolve()));
  }

  /** Heartbeat: a fresh random payload, so only a pong that echoes it proves the peer reads. */
  ping(): void {
    this.awaitingPong = true;
    if (this.closed) return;
    this.pingPayload = randomBytes(16);
    this.ws.ping(this.pingPayload);
    this.checkBuffer();
  }

  /** Heartbeat missed: the peer has not echoed the last ping. */
  expire(): void {
    if (this.closed) return;
    this.deps.onServerClose?.('heartbeat');
    this.terminate();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.wakeWriter();
    this.onClosed(this);
  }

  private readonly onClose = (): void => {
    this.shutdown();
  };

  private readonly onError = (): void => {
    // ws closes the socket itself after an error (e.g. oversize frame → 1009).
  };

  private readonly onPong = (data: Buffer): void => {
    // Unsolicited pongs (or replays of an older payload) prove nothing.
    if (this.pingPayload && data.equals(this.pingPayload)) {
      this.awaitingPong = false;
      this.pingPayload = undefined;
    }
  };

  private readonly onPing = (data: Buffer): void => {
    if (this.closed || !this.admitPing()) return;
    this.ws.pong(data);
    this.checkBuffer();
  };

  /** Counts a ping (either kind) in the current second; past the allowance the socket goes. */
  private admitPing(): boolean {
    if (this.pings.admit()) return true;
    this.deps.onServerClose?.('ping-flood');
    this.closeHard(SocketCloseCode.PolicyViolation, `too many pings (at most ${this.limits.pingsPerSecond} a second)`);
    return false;
  }

  /** Sends a frame; past the buffer cap the socket is closed as a slow consumer. */
  private sendFrame(frame: string): void {
    if (this.closed) return;
    this.ws.send(frame);
    this.checkBuffer();
  }

  private checkBuffer(): void {
    if (this.closed || this.ws.bufferedAmount <= this.limits.bufferBytes) return;
    this.deps.onServerClose?.('slow-consumer');
    // Nothing is lost: what was pushed and not acked stays queued and is pushed again on
    // reconnect.
    this.closeHard(SocketCloseCode.SlowConsumer, 'slow consumer: the client did not read what the server sent');
  }

  /**
   * For peers that misbehave: the close frame says why, but a peer that does not read
   * would hold the socket (and its buffer) for ws's 30 s close handshake, so stop reading
   * it and cut it shortly after.
   */
  private closeHard(code: number, reason: string): void {
    this.close(code, reason);
    this.ws.pause();
    setTimeout(() => this.ws.terminate(), SLOW_CLOSE_GRACE_MS).unref();
  }

  private readonly onEvent = (event: DeviceEvent): void => {
    if (this.closed) return;
    switch (event.type) {
      case 'envelopes': {
        // Not live (or a reader that must re-read): the drain reads them from the store, in order.
        if (!this.reader.announced() || !this.live) return this.markDirty();
        let pushed = 0;
        let full = false;
        for (const e of event.envelopes) {
          if (!this.reader.isUnsent(e)) continue;
          // The rest stays in the store: the drain reads it once the socket drains.
          if (this.ws.bufferedAmount > this.highWater) {
            full = true;
            break;
          }
          this.push(e);
          pushed++;
        }
        if (pushed > 0) this.deps.onPushed?.(pushed);
        if (full || this.ws.bufferedAmount > this.highWater) void this.drain();
        return;
      }
      case 'online': {
        // Never stored, so no backlog read will ever find it: push now (even while the
        // backlog drains; it has no queue position to keep in order) or drop it. Not
        // tracked as pushed: its ack finds no row, which is harmless.
        if (this.ws.bufferedAmount > this.highWater) return;
        for (const e of event.envelopes) this.sendFrame(envelopeFrame(e));
        this.deps.onPushed?.(event.envelopes.length);
        return;
      }
      case 'wake':
        this.reader.wake();
        return this.markDirty();
      case 'connected':
        if (event.connectionId !== this.id) this.close(SocketCloseCode.ConnectedElsewhere, 'connected elsewhere');
        return;
      case 'removed':
        this.close(SocketCloseCode.DeviceRemoved, 'device removed');
        return;
      case 'superseded':
        this.close(SocketCloseCode.ConnectedElsewhere, 'credentials replaced by a re-registration');
        return;
      case 'suspended':
        // This node's cached "active" must not let the reconnect back in.
        this.deps.onSuspended?.(this.identity.accountId);
        this.close(SocketCloseCode.AccountSuspended, 'account suspended');
        return;
    }
  };

  private markDirty(): void {
    this.dirty = true;
    if (!this.draining) void this.drain();
  }

  /** Pushes the stored queue the reader has not pushed yet, then goes (back) to live pushing. */
  private async drain(): Promise<void> {
    if (this.draining) {
      this.dirty = true;
      return;
    }
    this.draining = true;
    this.live = false;
    try {
      for (;;) {
        if (this.ws.bufferedAmount > this.highWater) await this.writable();
        if (this.closed) return;
        this.dirty = false;
        const page = await this.reader.read();
        if (this.closed) return;
        let pushed = 0;
        for (const row of page.rows) {
          if (!this.reader.isUnsent(row)) continue;
          // A page can be 200 × 128 KiB: wait mid-page rather than buffer it all.
          if (this.ws.bufferedAmount > this.highWater) {
            await this.writable();
            if (this.closed) return;
          }
          this.push(row);
          pushed++;
        }
        if (pushed > 0) this.deps.onPushed?.(pushed);
        if (!page.more && !this.dirty) break;
      }
      this.live = true;
      if (!this.queueEmptySent) {
        this.queueEmptySent = true;
        this.sendFrame(QUEUE_EMPTY_FRAME);
      }
    } catch (err) {
      if (this.closed) return;
      if (isStoreUnavailable(err)) {
        // The database is down (cluster outage): keep the socket, try again shortly,
        // caught up with whatever wakes were missed meanwhile.
        this.reader.wake();
        setTimeout(() => this.markDirty(), STORE_RETRY_MS).unref();
        return;
      }
      this.deps.log.error('socket delivery failed', err);
      this.close(1011, 'internal error');
    } finally {
      this.draining = false;
    }
  }

  private push(e: LiveEnvelope): void {
    this.sendFrame(envelopeFrame(e));
    this.reader.pushed(e);
  }

  private ack(guids: readonly string[]): void {
    const { ids, guids: unknown } = this.reader.acked(guids);
    if (ids) this.deps.writer.ackIds(ids);
    if (unknown) this.deps.writer.ack(this.identity.accountId, this.identity.deviceId, unknown);
  }

  private writable(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.writableWaiter = undefined;
        resolve();
      };
      this.writableWaiter = done;
      this.socket.on('drain', done);
    });
  }

  private wakeWriter(): void {
    this.writableWaiter?.();
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    if (this.closed) return;
    try {
      this.handleFrame(data, isBinary);
    } catch (err) {
      // A bug must cost one socket, never the process.
      this.deps.log.error('socket frame handling failed', err);
      this.close(1011, 'internal error');
    }
  };

  private handleFrame(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.rejectFrame(errorFrame(badFrame('binary frames are not accepted; send JSON text')));
    // binaryType is 'nodebuffer' (the default), so text arrives as one Buffer.
    const text = (data as Buffer).toString('utf8');
    const parsed = parseClientFrame(text);
    if (!parsed.ok) {
      const frame = parsed.id !== undefined ? responseFrame(parsed.id, parsed.error.status, parsed.error.toBody()) : errorFrame(parsed.error);
      return this.rejectFrame(frame);
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case 'ping':
        if (this.admitPing()) this.sendFrame(PONG_FRAME);
        return;
      case 'ack':
        this.ack(frame.guids);
        return;
      case 'send':
        this.handleSend(frame.id, () => this.deps.send(this.identity, frame.destination, frame.body));
        return;
      case 'send-multi':
        this.handleSend(frame.id, () => this.deps.sendMulti(this.identity, frame.body));
        return;
    }
  }

  private handleSend(id: number, run: () => Promise<{ status: number; body: unknown }>): void {
    this.pendingSends++;
    if (this.pendingSends >= MAX_PENDING_SENDS && !this.paused) {
      this.paused = true;
      this.ws.pause();
    }
    void run().then((result) => {
      this.pendingSends--;
      if (this.closed) return;
      this.sendFrame(responseFrame(id, result.status, result.body));
      if (this.paused && this.pendingSends < MAX_PENDING_SENDS / 2) {
        this.paused = false;
        this.ws.resume();
      }
    });
  }

  private rejectFrame(frame: string): void {
    this.sendFrame(frame);
    if (++this.invalidFrames > MAX_INVALID_FRAMES) this.close(SocketCloseCode.PolicyViolation, 'too many invalid frames');
  }
}

function badFrame(message: string): ApiError {
  return new ApiError(ErrorCode.BadRequest, message);
}
