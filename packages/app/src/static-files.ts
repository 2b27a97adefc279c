import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import { sendBuiltFile } from '@kluis/static-files';
import { AppErrorCode } from './api/errors.js';

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

/** On every answer past the transport check, the API's included. */
export function securityHeaders(reply: FastifyReply, host: string): void {
  reply.headers({
    'content-security-policy': appCsp(host),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    // Calls need the camera, the microphone and screen capture, in this page only.
    'permissions-policy': 'camera=(self), display-capture=(self), geolocation=(), microphone=(self)',
  });
}

/** GET of the UI's files; any path without an extension is the app's one page. */
export function serveStatic(reply: FastifyReply, distDir: string, path: string): Promise<FastifyReply> {
  return sendBuiltFile(reply, path, {
    root: distDir,
    notFound: { code: AppErrorCode.NotFound, message: 'the app has no file at this path' },
    notBuilt: {
      code: AppErrorCode.NotBuilt,
      message: 'The kluis app is not built. Run `npm run build` (or `npm start`, which builds it first), then reload.',
    },
  });
}
