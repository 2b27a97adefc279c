import { randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { ErrorCode, SocketCloseCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import type { Logger } from '../logger.js';
import { errorFrame, parseClientFrame, PONG_FRAME, responseFrame, type ClientFrame } from './frames.js';
import { DEFAULT_SOCKET_LIMITS, PingAllowance, type ServerCloseReason, type SocketLimits } from './socket-limits.js';
import type { WriteBatcher } from './write-batcher.js';

export type SendAnswer = { status: number; body: unknown };

export interface FrameSocketDeps {
  log: Logger;
  /** Per-socket bounds (config: --socket-buffer-kib, --socket-pings-per-second). */
  socketLimits?: SocketLimits;
  /** A socket was closed by the server: its client did not read, pinged too often, or missed a heartbeat (metrics). */
  onServerClose?: (reason: ServerCloseReason) => void;
  /** Frames written in one event-loop turn leave in one write (write-batcher.ts). */
  batcher?: WriteBatcher;
}

const MAX_INVALID_FRAMES = 20;
/** Unanswered sends per socket before we stop reading from it (TCP backpressure). */
const MAX_PENDING_SENDS = 256;
/** A slow consumer gets its close frame this long before the socket (and its buffer) goes. */
const SLOW_CLOSE_GRACE_MS = 1_000;

/**
 * What both sockets share (the device socket, connection.ts, and the sealed socket,
 * sealed-connection.ts): binary frames in and out, pings counted, the outbound buffer
 * capped, sends answered in order of completion with TCP backpressure past a bound, and
 * a peer that keeps sending bad frames cut off.
 */
export abstract class FrameSocket {
  readonly id = randomUUID();
  /** Set by the heartbeat; cleared only by a pong that echoes the heartbeat's random payload. */
  awaitingPong = false;
  /** Set while this socket's writes are corked by the batcher. */
  corked = false;
  protected closed = false;
  protected readonly limits: SocketLimits;
  private pingPayload: Buffer | undefined;
  private readonly pings: PingAllowance;
  private invalidFrames = 0;
  private pendingSends = 0;
  private paused = false;

  constructor(
    private readonly base: FrameSocketDeps,
    protected readonly ws: WebSocket,
    protected readonly socket: Duplex,
  ) {
    this.limits = base.socketLimits ?? DEFAULT_SOCKET_LIMITS;
    this.pings = new PingAllowance(this.limits.pingsPerSecond);
  }

  /** Handles one checked frame; `ping` is answered before this is called. */
  protected abstract handleFrame(frame: Exclude<ClientFrame, { type: 'ping' }>): void;
  protected abstract shutdown(): void;

  protected listen(): void {
    this.ws.on('message', this.onMessage);
    this.ws.on('close', () => this.shutdown());
    // ws closes the socket itself after an error (e.g. oversize frame → 1009).
    this.ws.on('error', () => {});
    this.ws.on('pong', this.onPong);
    // autoPong is off (socket-server.ts): pings are answered here, counted.
    this.ws.on('ping', this.onPing);
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
    this.base.onServerClose?.('heartbeat');
    this.terminate();
  }

  get isClosed(): boolean {
    return this.closed;
  }

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
    this.base.onServerClose?.('ping-flood');
    this.closeHard(SocketCloseCode.PolicyViolation, `too many pings (at most ${this.limits.pingsPerSecond} a second)`);
    return false;
  }

  /** Sends a frame; past the buffer cap the socket is closed as a slow consumer. */
  protected sendFrame(frame: Buffer): void {
    if (this.closed) return;
    this.base.batcher?.cork(this, this.socket);
    this.ws.send(frame);
    this.checkBuffer();
  }

  private checkBuffer(): void {
    if (this.closed || this.ws.bufferedAmount <= this.limits.bufferBytes) return;
    this.base.onServerClose?.('slow-consumer');
    // Nothing is lost: what was pushed and not acked stays queued and is pushed again on
    // reconnect.
    this.closeHard(SocketCloseCode.SlowConsumer, 'slow consumer: the client did not read what the server sent');
  }

  /**
   * For peers that misbehave: the close frame says why, but a peer that does not read
   * would hold the socket (and its buffer) for ws's 30 s close handshake, so stop reading
   * it and cut it shortly after.
   */
  protected closeHard(code: number, reason: string): void {
    this.close(code, reason);
    this.ws.pause();
    setTimeout(() => this.ws.terminate(), SLOW_CLOSE_GRACE_MS).unref();
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    if (this.closed) return;
    try {
      this.receive(data, isBinary);
    } catch (err) {
      // A bug must cost one socket, never the process.
      this.base.log.error('socket frame handling failed', err);
      this.close(1011, 'internal error');
    }
  };

  private receive(data: RawData, isBinary: boolean): void {
    // JSON text frames were the wire before 0.2; no deployed client speaks them.
    if (!isBinary) return this.rejectFrame(errorFrame(bad('text frames are not accepted; send binary protobuf frames (socket.proto)')));
    // binaryType is 'nodebuffer' (the default): one Buffer per message.
    const parsed = parseClientFrame(data as Buffer);
    if (!parsed.ok) {
      const frame = parsed.id !== undefined ? responseFrame(parsed.id, parsed.error.status, parsed.error.toBody()) : errorFrame(parsed.error);
      return this.rejectFrame(frame);
    }
    if (parsed.frame.type === 'ping') {
      if (this.admitPing()) this.sendFrame(PONG_FRAME);
      return;
    }
    this.handleFrame(parsed.frame);
  }

  protected handleSend(id: number, run: () => Promise<SendAnswer>): void {
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

  /** Answers a frame this socket does not take: with the send's id when it has one. */
  protected refuse(frame: ClientFrame, error: ApiError): void {
    this.rejectFrame('id' in frame ? responseFrame(frame.id, error.status, error.toBody()) : errorFrame(error));
  }

  protected rejectFrame(frame: Buffer): void {
    this.sendFrame(frame);
    if (++this.invalidFrames > MAX_INVALID_FRAMES) this.close(SocketCloseCode.PolicyViolation, 'too many invalid frames');
  }
}

export function bad(message: string): ApiError {
  return new ApiError(ErrorCode.BadRequest, message);
}
