import type { IncomingMessage } from 'node:http';
import { AppError } from './errors.js';

/** Largest upload the page may hand the host in one request (the server has its own limit). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
const MAX_JSON_BYTES = 256 * 1024;

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > limit) {
        reject(new AppError(413, 'TOO_LARGE', 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** JSON only with its content type: a form post from another page cannot pose as one. */
export async function jsonBody(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new AppError(415, 'BAD_CONTENT_TYPE', 'send application/json');
  const raw = await readBody(req, MAX_JSON_BYTES);
  try {
    return raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError(400, 'BAD_JSON', 'the body is not JSON');
  }
}
