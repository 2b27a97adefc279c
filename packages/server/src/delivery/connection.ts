import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { SocketCloseCode } from '@kluis/protocol';
import { isStoreUnavailable } from '../errors.js';
import type { DeviceIdentity } from '../auth/device-auth.js';
import type { Db } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { EnvelopeStore } from '../store/envelopes.js';
import { deviceKey, type Bus, type DeviceEvent, type LiveEnvelope } from './bus.js';
import { envelopeFrame, QUEUE_EMPTY_FRAME, type ClientFrame } from './frames.js';
import { bad, FrameSocket, type FrameSocketDeps, type SendAnswer } from './frame-socket.js';
import type { GroupCommitWriter } from './group-commit.js';
import type { DecodedMultiSendRequest } from './multi-send.js';
import { orderedCursorReader, type QueueReader, type QueueReaderFactory } from './queue-reader.js';
import type { DecodedSendRequest } from './send.js';

export interface ConnectionDeps extends FrameSocketDeps {
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
  send(sender: DeviceIdentity, destination: string, request: DecodedSendRequest): Promise<SendAnswer>;
  /** The shared multi-recipient send ('send-multi' frame), answering like PUT /v1/messages. */
  sendMulti(sender: DeviceIdentity, request: DecodedMultiSendRequest): Promise<SendAnswer>;
}

/** Above this many unsent bytes we stop pushing and wait for the socket to drain. */
const HIGH_WATER = 512 * 1024;
/** After the store failed to answer, the socket retries its queue read this much later. */
const STORE_RETRY_MS = 1_000;

/**
 * One device's WebSocket. The backlog is read from the database in pages (the queue
 * reader knows where to read and what this socket already pushed), then 'queue-empty',
 * then envelopes are pushed live as they commit where the reader allows it. Whenever
 * live pushing is not possible (backlog still draining, slow reader, a reader that must
 * re-read) events only mark the connection dirty and the queue is read again, so nothing
 * is reordered, skipped or pushed twice.
 */
export class DeviceConnection extends FrameSocket {
  readonly key: string;
  /** Stop pushing above this; well below the cap, so delivery alone never trips it. */
  private readonly highWater: number;
  private readonly reader: QueueReader;
  private live = false;
  private draining = false;
  private dirty = false;
  private queueEmptySent = false;
  private unsubscribe: (() => void) | undefined;
  private writableWaiter: (() => void) | undefined;

  constructor(
    private readonly deps: ConnectionDeps,
    ws: WebSocket,
    socket: Duplex,
    readonly identity: DeviceIdentity,
    private readonly onClosed: (connection: DeviceConnection) => void,
  ) {
    super(deps, ws, socket);
    this.key = deviceKey(identity.accountId, identity.deviceId);
    this.highWater = Math.min(HIGH_WATER, Math.floor(this.limits.bufferBytes / 4));
    this.reader = (deps.queueReader ?? orderedCursorReader)((afterId, limit) => deps.envelopes.page(deps.db, identity.accountId, identity.deviceId, afterId, limit));
  }

  start(): void {
    this.unsubscribe = this.deps.bus.subscribe(this.key, this.onEvent);
    // Tell any older connection of this device (on any node) to close.
    this.deps.bus.publish(this.key, { type: 'connected', connectionId: this.id });
    this.listen();
    this.deps.writer.touch(this.identity.accountId, this.identity.deviceId, this.deps.clock());
    void this.drain();
  }

  protected shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.wakeWriter();
    this.onClosed(this);
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

  protected handleFrame(frame: Exclude<ClientFrame, { type: 'ping' }>): void {
    switch (frame.type) {
      case 'ack':
        return this.ack(frame.guids);
      case 'send':
        return this.handleSend(frame.id, () => this.deps.send(this.identity, frame.destination, frame.body));
      case 'send-multi':
        return this.handleSend(frame.id, () => this.deps.sendMulti(this.identity, frame.body));
      case 'sealed-send':
      case 'sealed-multi-send':
        // On this socket a sealed send would sit next to its sender's credential.
        return this.refuse(frame, bad('sealed sends go over the sealed socket (GET /v1/sealed-socket), never the device socket'));
    }
  }
}
