import type { Duplex } from 'node:stream';

/**
 * Corks a socket on its first frame of an event-loop turn and uncorks every corked socket
 * once, in setImmediate: a commit that answers a sender and pushes to its recipients, or
 * a backlog page of 200 envelopes, leaves each socket in one writev instead of one write
 * per frame. The delay is one turn of the loop (microseconds), never a timer.
 */
export class WriteBatcher {
  private pending: Array<{ owner: { corked: boolean }; socket: Duplex }> = [];
  private scheduled = false;

  cork(owner: { corked: boolean }, socket: Duplex): void {
    if (owner.corked) return;
    owner.corked = true;
    socket.cork();
    this.pending.push({ owner, socket });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = [];
    for (const { owner, socket } of pending) {
      owner.corked = false;
      socket.uncork();
    }
  };
}
