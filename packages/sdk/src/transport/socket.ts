import { MAX_ACKS_PER_FRAME, plainEnvelope, Routes, routeParts, SocketCloseCode, type SocketWire, type WireServerFrame } from '@kluis/protocol';
import { NetworkError, ServerError } from '../errors.js';
import type { ReceivedEnvelope } from '../types.js';
import type { RawResponse } from './http.js';
import { RequestSocket, wsUrl, type RequestSocketOptions } from './request-socket.js';

export type SocketState = 'connected' | 'disconnected' | 'replaced' | 'removed';

export interface SocketHandlers {
  onEnvelope(envelope: ReceivedEnvelope): void;
  onQueueEmpty(): void;
  onState(state: SocketState): void;
  onError(error: Error): void;
}

export interface SocketOptions extends Omit<RequestSocketOptions, 'headers'> {
  authorization: () => string | undefined;
}

export function socketUrl(serverUrl: string): string {
  return wsUrl(serverUrl, routeParts(Routes.socket).path);
}

/**
 * The device's WebSocket: validates frames, pings, batches acks, carries 'send' requests, and
 * reconnects with jittered exponential backoff — except after close 4000 (connected elsewhere)
 * and 4001 (device removed), and after stop().
 */
export class DeviceSocket extends RequestSocket {
  private acks: string[] = [];
  private paused = false;
  private ackScheduled = false;

  constructor(
    opts: SocketOptions,
    private readonly h: SocketHandlers,
  ) {
    super({
      ...opts,
      headers: (): Record<string, string> => {
        const auth = opts.authorization();
        return auth ? { authorization: auth } : {};
      },
    });
  }

  /** Stops taking new envelopes (they stay queued on the server); acks and sends still work. */
  pause(): void {
    this.paused = true;
  }

  protected override beforeStop(): void {
    this.flushAcks();
  }

  protected override onOpen(): void {
    this.h.onState('connected');
  }

  protected override onDropped(): void {
    this.acks = [];
  }

  protected override endsOn(code: number): boolean {
    return code === SocketCloseCode.ConnectedElsewhere || code === SocketCloseCode.DeviceRemoved;
  }

  protected override onClosed(code: number): void {
    if (code === SocketCloseCode.ConnectedElsewhere) this.h.onState('replaced');
    else if (code === SocketCloseCode.DeviceRemoved) this.h.onState('removed');
    else this.h.onState('disconnected');
  }

  /** 401/403 on a reconnect: our credentials are gone; retrying will not help. */
  protected override givesUpOn(e: Error): boolean {
    return e instanceof ServerError && (e.status === 401 || e.status === 403);
  }

  protected override onGaveUp(e: Error): void {
    this.h.onError(e);
    this.h.onState('removed');
  }

  protected override reportError(e: Error): void {
    this.h.onError(e);
  }

  protected override onPush(f: WireServerFrame['frame']): void {
    switch (f.case) {
      case 'envelope':
        // Paused (closing): not acked, so the server redelivers it next time.
        if (this.paused) return;
        return this.h.onEnvelope(plainEnvelope(f.value));
      case 'queueEmpty':
        return this.h.onQueueEmpty();
      case 'error':
        return this.h.onError(new ServerError(400, f.value.code, f.value.message, { code: f.value.code, message: f.value.message }));
      default:
        return this.h.onError(new NetworkError('server sent an empty or unknown frame'));
    }
  }

  /** A 'send' over the socket; rejects with NetworkError if the socket is not open or drops. */
  request(destination: string, body: SendBody): Promise<RawResponse> {
    return this.requestFrame((id) => ({ frame: { case: 'send', value: { id, destination, ...sendBody(body) } } }));
  }

  /**
   * A 'send-multi' over the socket. Rejects with NetworkError (so callers fall back to
   * HTTP) when the frame would exceed the server's frame limit, as a large per-device
   * fan-out can.
   */
  requestMulti(body: MultiSendBody): Promise<RawResponse> {
    return this.requestFrame((id) => ({ frame: { case: 'sendMulti', value: { id, ...multiBody(body) } } }));
  }

  /** Queues an ack; acks are sent in batches (≤ MAX_ACKS_PER_FRAME) on the next tick. */
  ack(guid: string): void {
    this.acks.push(guid);
    if (this.acks.length >= MAX_ACKS_PER_FRAME) return this.flushAcks();
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      setImmediate(() => this.flushAcks());
    }
  }

  flushAcks(): void {
    this.ackScheduled = false;
    while (this.acks.length > 0) {
      const guids = this.acks.splice(0, MAX_ACKS_PER_FRAME);
      // Not open: the server redelivers; we drop the duplicate by guid then.
      if (!this.sendFrame({ frame: { case: 'ack', value: { guids } } })) {
        this.acks = [];
        return;
      }
    }
  }
}

/** A 1:1 send as the socket carries it: ciphertexts as raw bytes. */
export interface SendBody {
  timestamp?: number;
  messages: Array<{ deviceId: number; registrationId: number; type: number; content: Uint8Array }>;
  resend?: boolean;
  online?: boolean;
  shortLived?: boolean;
}

/** A multi-recipient send as the socket carries it. */
export interface MultiSendBody {
  timestamp?: number;
  online?: boolean;
  shortLived?: boolean;
  urgent?: boolean;
  shared?: { type: number; content: Uint8Array };
  recipients: Array<{ accountId: string; devices: Array<{ deviceId: number; registrationId: number; type?: number; content?: Uint8Array }> }>;
}

function sendBody(b: SendBody): Omit<SocketWire.Send, '$typeName' | 'id' | 'destination'> {
  return {
    timestamp: b.timestamp === undefined ? undefined : BigInt(b.timestamp),
    messages: b.messages as SocketWire.OutgoingMessage[],
    resend: b.resend === true,
    online: b.online === true,
    shortLived: b.shortLived === true,
  };
}

function multiBody(b: MultiSendBody): Omit<SocketWire.SendMulti, '$typeName' | 'id'> {
  return {
    timestamp: b.timestamp === undefined ? undefined : BigInt(b.timestamp),
    online: b.online === true,
    shortLived: b.shortLived === true,
    urgent: b.urgent === true,
    shared: b.shared as SocketWire.SharedCiphertext | undefined,
    recipients: b.recipients as SocketWire.MultiSendRecipient[],
  };
}

