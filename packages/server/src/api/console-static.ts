import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '@kluis/protocol';

/** Where `npm run build` (Vite) puts the operator console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

/**
 * Same origin only: the console's one script and stylesheet, and fetches to /admin.
 * Nothing inline, no framing (clickjacking an admin), no plugins, no <base> tricks.
 */
export const CONSOLE_CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

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

/**
 * Serves the built console at /console (static files, index.html for any other path
 * without an extension). It holds no user keys and talks only to /admin with a token
 * the admin types in. Kept apart from the JSON route table: these are not API routes.
 */
export function registerConsole(app: FastifyInstance, distDir: string = CONSOLE_DIST): void {
  const root = resolve(distDir);
  const index = join(root, 'index.html');

  const send = (reply: FastifyReply, path: string, size: number, cache: string) =>
    reply
      .header('content-type', TYPES[extname(path)] ?? 'application/octet-stream')
      .header('content-length', size)
      .header('cache-control', cache)
      .send(createReadStream(path));

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cross-origin-resource-policy', 'same-origin');
    const indexSize = await fileSize(index);
    if (indexSize === undefined) {
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .type('application/json; charset=utf-8')
        .send({ code: ErrorCode.Unavailable, message: 'The operator console is not built. Run `npm run build` (or `npm start`, which builds it first), then reload.' });
    }
    const rel = (req.params as { '*'?: string })['*'] ?? '';
    // Anything that resolves outside dist (../, encoded or not) is treated as not found.
    const path = resolve(root, '.' + sep + rel);
    const inside = path.startsWith(root + sep) && !rel.includes('\0');
    const size = inside && rel !== '' ? await fileSize(path) : undefined;
    if (size !== undefined && path !== index) {
      // Vite puts content hashes in asset names: those never change, so cache them for good.
      const immutable = rel.startsWith('assets/');
      return send(reply, path, size, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
    // A missing file (it has an extension) is a 404; any other path is a screen of the app.
    if (inside && extname(rel) !== '' && path !== index) {
      return reply.code(404).header('cache-control', 'no-store').type('application/json; charset=utf-8').send({ code: ErrorCode.NotFound, message: 'the console has no file at this path' });
    }
    // Never cached: a new build must reach admins at once (its asset names change).
    return send(reply, index, indexSize, 'no-store');
  };

  app.get('/console', handler);
  app.get('/console/*', handler);
}
