import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyReply } from 'fastify';

/**
 * Serving a page that Vite built (the operator console on the server, the app's UI on
 * `kluis app`): the same rules for both, so neither can drift into serving what it should
 * not. Security headers (CSP and the rest) are the caller's: each page has its own.
 */
export interface BuiltPage {
  /** Vite's outDir: index.html and assets/. */
  root: string;
  /** The JSON answer when the page is not built (503). */
  notBuilt: { code: string; message: string };
  /** The JSON answer for a missing file (404). */
  notFound: { code: string; message: string };
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

function send(reply: FastifyReply, path: string, size: number, cache: string): FastifyReply {
  return reply
    .code(200)
    .header('content-type', TYPES[extname(path)] ?? 'application/octet-stream')
    .header('content-length', size)
    .header('cache-control', cache)
    .send(createReadStream(path));
}

function answer(reply: FastifyReply, status: number, body: { code: string; message: string }): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(body);
}

/**
 * Answers with the file at `rel` (the decoded path below the page's mount point, '' for
 * its root): a file of the build; a 404 for a missing one (it has an extension); and
 * index.html for any other path, which is a screen of the page.
 */
export async function sendBuiltFile(reply: FastifyReply, rel: string, page: BuiltPage): Promise<FastifyReply> {
  const root = resolve(page.root);
  const index = join(root, 'index.html');
  const indexSize = await fileSize(index);
  if (indexSize === undefined) return answer(reply, 503, page.notBuilt);
  const clean = rel.replace(/^\/+/, '');
  // Anything that resolves outside the build (../, encoded or not) is treated as not found.
  const path = resolve(root, '.' + sep + clean);
  const inside = (path === root || path.startsWith(root + sep)) && !clean.includes('\0');
  const size = inside && clean !== '' ? await fileSize(path) : undefined;
  if (size !== undefined && path !== index) {
    // Vite puts content hashes in asset names: those never change, so cache them for good.
    return send(reply, path, size, clean.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
  }
  if (!inside || (extname(clean) !== '' && path !== index)) return answer(reply, 404, page.notFound);
  // Never cached: a new build must reach the browser at once (its asset names change).
  return send(reply, index, indexSize, 'no-store');
}
