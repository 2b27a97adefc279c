import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';

/**
 * Answers for requests that never become a Fastify request: Node's HTTP parser refuses
 * them (`clientError`) or Node would answer on its own (`checkExpectation`, `connect`).
 * Without these, Node or Fastify write their own bodies (`{error, message, statusCode}`,
 * or none at all) and clients that switch on `code` see something they cannot read.
 */

/** llhttp's error codes, mapped to one sentence a client's author can act on. */
const PARSE_ERRORS: Record<string, string> = {
  HPE_INVALID_METHOD: 'the request method is not an HTTP method',
  HPE_INVALID_URL: 'the request target is not a valid path',
  HPE_INVALID_VERSION: 'the HTTP version is not valid; use HTTP/1.1',
  HPE_INVALID_CONSTANT: 'the request line is not valid HTTP/1.1',
  HPE_INVALID_HEADER_TOKEN: 'a header name or value contains a character HTTP does not allow',
  HPE_INVALID_CONTENT_LENGTH: 'the Content-Length header is not a valid length',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'the request carries conflicting lengths (two Content-Length headers, or one with Transfer-Encoding)',
  HPE_INVALID_TRANSFER_ENCODING: 'the Transfer-Encoding header is not valid; only chunked is understood',
  HPE_INVALID_CHUNK_SIZE: 'the chunked body is malformed (a chunk size is not hexadecimal)',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'the chunked body carries chunk extensions larger than the server reads',
  HPE_CR_EXPECTED: 'the request is not valid HTTP/1.1 (a line does not end with CRLF)',
  HPE_LF_EXPECTED: 'the request is not valid HTTP/1.1 (a line does not end with CRLF)',
  HPE_STRICT: 'the request is not valid HTTP/1.1',
  HPE_PAUSED_H2_UPGRADE: 'HTTP/2 is not served here; use HTTP/1.1',
  HPE_INVALID_EOF_STATE: 'the connection ended in the middle of the request',
};

/** What Node hands `clientError`: `rawPacket` is the bytes read so far (typed loosely by Fastify). */
export interface ClientError {
  code?: string;
  rawPacket?: unknown;
}

/** The error a client gets for what Node's parser refused; `headerLimit` is the server's maxHeaderSize. */
export function clientErrorToApiError(err: ClientError, headerLimit = maxHeaderSize): ApiError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ApiError(ErrorCode.RequestTimeout, 'the request did not arrive in full in time; send it again');
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // The request line counts towards the limit: when it alone fills it, the path is what is too long.
    const packet = err.rawPacket;
    const lineEnd = Buffer.isBuffer(packet) ? packet.indexOf(10) : -2;
    if (lineEnd === -1 || lineEnd >= headerLimit) return new ApiError(ErrorCode.UriTooLong, `the request line is longer than the server reads (${headerLimit} bytes with the headers)`);
    return new ApiError(ErrorCode.HeadersTooLarge, `the request's header fields are larger than the server reads (${headerLimit} bytes in all)`);
  }
  const reason = (err.code && PARSE_ERRORS[err.code]) ?? 'the request is not valid HTTP/1.1';
  return new ApiError(ErrorCode.BadRequest, reason);
}

/** A whole HTTP/1.1 response carrying the error's JSON body; the connection closes after it. */
export function rawErrorResponse(error: ApiError): string {
  const body = JSON.stringify(error.toBody());
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Writes the error and closes; a peer that never reads is cut after a second. */
export function endWithError(socket: Duplex, error: ApiError): void {
  if (socket.destroyed) return;
  if (socket.writable) socket.end(rawErrorResponse(error));
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Fastify's `clientErrorHandler`: what Node's HTTP parser could not read. */
export function answerClientError(err: ClientError, socket: Duplex, headerLimit = maxHeaderSize): void {
  // A reset peer, or a socket already gone: there is nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // As Node itself: never write into the middle of a response already under way (keep-alive).
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  endWithError(socket, clientErrorToApiError(err, headerLimit));
}
