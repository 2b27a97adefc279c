import { MAX_SOCKET_FRAME_BYTES, Routes, routeParts, type WireServerFrame } from '@kluis/protocol';
import { NetworkError, ServerError } from '../errors.js';
import type { RawResponse } from './http.js';
import { RequestSocket, wsUrl, type RequestSocketOptions } from './request-socket.js';
import type { SendBody } from './socket.js';

export function sealedSocketUrl(serverUrl: string): string {
  return wsUrl(serverUrl, routeParts(Routes.sealedSocket).path);
}

export interface SealedSocketOptions extends Omit<RequestSocketOptions, 'headers'> {
  onError(error: Error): void;
}

/**
 * The sealed socket (GET /v1/sealed-socket): sealed 1:1 and multi-recipient sends, each
 * authorised by the access key it carries, and their answers. The upgrade carries no
 * credential and nothing of this device: no Authorization, no cookie, no query, a
 * connection of its own (ws opens a fresh TCP/TLS connection per socket, no agent, no
 * TLS session shared with the device socket or the HTTP client). What still ties it to
 * the device socket is the network only: address and timing (docs/security.md).
 *
 * It is an optimisation: not reaching it (an older server, a proxy without the route)
 * leaves sealed sends on HTTP. So a failed first connect keeps trying in the background,
 * and a refusal (4xx) ends it for good.
 */
export class SealedSocket extends RequestSocket {
  constructor(private readonly opts: SealedSocketOptions) {
    // Headers are a constant: nothing a caller passes can reach this upgrade.
    // Answers are small JSON bodies: nothing bigger than a request frame is taken.
    super({ maxPayloadBytes: MAX_SOCKET_FRAME_BYTES, ...opts, headers: () => ({}) });
  }

  protected override retriesAfterFailedStart(e: Error): boolean {
    return !refusedForGood(e);
  }

  protected override givesUpOn(e: Error): boolean {
    return refusedForGood(e);
  }

  protected override reportError(e: Error): void {
    this.opts.onError(e);
  }

  protected override onPush(f: WireServerFrame['frame']): void {
    if (f.case === 'error') return this.opts.onError(new ServerError(400, f.value.code, f.value.message, { code: f.value.code, message: f.value.message }));
    // Envelopes and queue-empty belong to the device socket; this one has no queue.
    this.opts.onError(new NetworkError(`server sent a '${f.case ?? 'empty'}' frame on the sealed socket`));
  }

  /** PUT /v1/sealed/:accountId over the socket: same statuses and bodies. */
  send(destination: string, body: SendBody, accessKey: Uint8Array): Promise<RawResponse> {
    return this.requestFrame((id) => ({
      frame: {
        case: 'sealedSend',
        value: {
          id,
          destination,
          accessKey,
          messages: body.messages,
          resend: body.resend === true,
          online: body.online === true,
          shortLived: body.shortLived === true,
        },
      },
    }));
  }

  /** PUT /v1/sealed over the socket: a libsignal multi-recipient message and the XOR of the recipients' keys. */
  sendMulti(message: Uint8Array, accessKey: Uint8Array, online: boolean, shortLived = false): Promise<RawResponse> {
    return this.requestFrame((id) => ({ frame: { case: 'sealedMultiSend', value: { id, accessKey, message, online, shortLived } } }));
  }
}

/** The server answered the upgrade and said no (no such route, or it refuses us): 429 and 5xx pass. */
function refusedForGood(e: Error): boolean {
  return e instanceof ServerError && e.status >= 400 && e.status < 500 && e.status !== 429;
}
