import { performance } from 'node:perf_hooks';

export interface SocketLimits {
  /** Outbound bytes (unsent by the kernel and by ws) past which the socket is closed as a slow consumer. */
  bufferBytes: number;
  /** Pings (WebSocket ping frames and protobuf ping frames) answered per second; one more closes the socket. */
  pingsPerSecond: number;
}

export type ServerCloseReason = 'slow-consumer' | 'ping-flood' | 'heartbeat';

export const DEFAULT_SOCKET_LIMITS: SocketLimits = { bufferBytes: 4 * 1024 * 1024, pingsPerSecond: 5 };

/** Pings (WebSocket ping frames and protobuf ping frames together) a socket may send in each second. */
export class PingAllowance {
  private windowStart = 0;
  private inWindow = 0;

  constructor(private readonly perSecond: number) {}

  /** Counts one ping: false once the current second's allowance is used up. */
  admit(): boolean {
    const now = performance.now();
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    return ++this.inWindow <= this.perSecond;
  }
}
