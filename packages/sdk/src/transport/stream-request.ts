import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { NetworkError } from '../errors.js';

export interface StreamResponse {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body, unread: the caller consumes (or destroys) it. */
  body: IncomingMessage;
}

/**
 * One HTTP request whose body and response are streams (attachments), on node:http so
 * Content-Length can be set and nothing is buffered. `idleMs` bounds silence on the
 * socket rather than the whole transfer, which may rightly take minutes.
 */
export function streamRequest(
  url: string,
  o: { method: string; headers: Record<string, string>; body?: Readable; idleMs: number },
): Promise<StreamResponse> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const what = `${o.method} ${u.pathname.replace(/[A-Za-z0-9_-]{22}/, ':id')}`;
  return new Promise((resolve, reject) => {
    const req = request(u, { method: o.method, headers: o.headers });
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      o.body?.destroy();
      req.destroy();
      reject(new NetworkError(`${what}: ${err.message}`, { cause: err }));
    };
    req.setTimeout(o.idleMs, () => {
      const err = new Error(`no progress for ${o.idleMs} ms`);
      // After the response began, a stall breaks the body stream its reader is iterating.
      if (settled) req.destroy(err);
      else fail(err);
    });
    req.on('error', fail);
    req.on('response', (res) => {
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      // The response may come before the whole body was sent (the server refused early):
      // stop sending, and drop the connection once the answer has been read.
      if (o.body && !o.body.readableEnded) {
        o.body.unpipe(req);
        o.body.destroy();
        res.on('end', () => req.destroy());
      }
      res.on('error', () => {});
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    if (o.body) {
      o.body.on('error', (err) => fail(err));
      o.body.pipe(req);
    } else {
      req.end();
    }
  });
}

/** Reads a (small) JSON or text response body. */
export async function readSmallBody(res: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) break;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
