import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ClientFrame } from './frames.js';
import { bad, FrameSocket, type FrameSocketDeps, type SendAnswer } from './frame-socket.js';
import type { DecodedSendRequest } from './send.js';

export interface SealedConnectionDeps extends FrameSocketDeps {
  /** A sealed send (PUT /v1/sealed/:accountId): the key is checked and rate limits taken as over HTTP. */
  sendSealed(destination: string, accessKey: Buffer | undefined, request: DecodedSendRequest): Promise<SendAnswer>;
  /** A sealed multi-recipient send (PUT /v1/sealed). */
  sendSealedMulti(accessKey: Buffer | undefined, request: { message: Buffer; online: boolean; shortLived: boolean }): Promise<SendAnswer>;
}

/**
 * The sealed socket (GET /v1/sealed-socket): no credential, no account, no queue. It
 * carries sealed sends and their answers, nothing else, so the server holds a socket it
 * cannot tie to anyone beyond what the network shows (docs/security.md). Every send is
 * authorised by the access key it carries, exactly as PUT /v1/sealed… is.
 */
export class SealedConnection extends FrameSocket {
  constructor(
    private readonly deps: SealedConnectionDeps,
    ws: WebSocket,
    socket: Duplex,
    private readonly onClosed: (connection: SealedConnection) => void,
  ) {
    super(deps, ws, socket);
  }

  start(): void {
    this.listen();
  }

  protected shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed(this);
  }

  protected handleFrame(frame: Exclude<ClientFrame, { type: 'ping' }>): void {
    switch (frame.type) {
      case 'sealed-send':
        return this.handleSend(frame.id, () => this.deps.sendSealed(frame.destination, frame.accessKey, frame.body));
      case 'sealed-multi-send':
        return this.handleSend(frame.id, () => this.deps.sendSealedMulti(frame.accessKey, frame.body));
      case 'ack':
      case 'send':
      case 'send-multi':
        return this.refuse(frame, bad('the sealed socket carries sealed sends only; identified sends and acks go over GET /v1/socket'));
    }
  }
}
