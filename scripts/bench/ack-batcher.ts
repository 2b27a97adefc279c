import { encodeClientFrame, MAX_ACKS_PER_FRAME } from '@kluis/protocol';
import WebSocket from 'ws';

/**
 * Acks the envelopes a load generator received, per socket, in as few frames as fit
 * (MAX_ACKS_PER_FRAME), once per event-loop turn: as a client that commits in batches
 * would, and without one frame per envelope costing the generator its own CPU.
 */
export class AckBatcher {
  private readonly pending = new Map<WebSocket, string[]>();
  private scheduled = false;

  add(ws: WebSocket, guid: string): void {
    let acks = this.pending.get(ws);
    if (!acks) this.pending.set(ws, (acks = []));
    acks.push(guid);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is pending now (sockets closed meanwhile are skipped: their envelopes come again). */
  flush(): void {
    this.scheduled = false;
    for (const [ws, guids] of this.pending) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      for (let k = 0; k < guids.length; k += MAX_ACKS_PER_FRAME) {
        ws.send(encodeClientFrame({ frame: { case: 'ack', value: { guids: guids.slice(k, k + MAX_ACKS_PER_FRAME) } } }));
      }
    }
    this.pending.clear();
  }
}
