import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` (Vite) puts the app's UI: shipped in the package, never fetched. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/**
 * Nothing from any other origin: scripts and styles from this host only, images and
 * media also from blob: URLs (attachment previews decrypted by the host), and sockets
 * only back to this host. No framing, no forms posting elsewhere, no plugins.
 */
export function appCsp(host: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    "media-src 'self' blob:",
    `connect-src 'self' ws://${host}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export function securityHeaders(res: ServerResponse, host: string): void {
  res.setHeader('content-security-policy', appCsp(host));
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(), geolocation=(), microphone=(self)');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** GET of the UI's files; any path without an extension is the app's one page. */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, distDir: string): Promise<void> {
  const root = resolve(distDir);
  const index = join(root, 'index.html');
  const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
  const path = resolve(root, '.' + sep + rel);
  const inside = (path === root || path.startsWith(root + sep)) && !rel.includes('\0');
  const size = inside && rel !== '' ? await fileSize(path) : undefined;
  const send = (p: string, n: number, cache: string) => {
    res.writeHead(200, { 'content-type': TYPES[extname(p)] ?? 'application/octet-stream', 'content-length': n, 'cache-control': cache });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(p).pipe(res);
  };
  if (size !== undefined && path !== index) return send(path, size, rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (!inside || (extname(rel) !== '' && path !== index)) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    return void res.end('not found\n');
  }
  const indexSize = await fileSize(index);
  if (indexSize === undefined) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    return void res.end('The kluis app is not built. Run `npm run build` (or `npm start`, which builds it first), then reload.\n');
  }
  send(index, indexSize, 'no-store');
}
