import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendBuiltFile } from '@kluis/static-files';
import { ErrorCode } from '@kluis/protocol';

/** Where `npm run build` (Vite) puts the operator console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

/**
 * Same origin only: the console's one script and stylesheet, and fetches to /admin.
 * Nothing inline, no framing (clickjacking an admin), no plugins, no <base> tricks.
 */
export const CONSOLE_CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/**
 * Serves the built console at /console (static files, index.html for any other path
 * without an extension). It holds no user keys and talks only to /admin with a token
 * the admin types in. Kept apart from the JSON route table: these are not API routes.
 */
export function registerConsole(app: FastifyInstance, distDir: string = CONSOLE_DIST): void {
  const page = {
    root: distDir,
    notFound: { code: ErrorCode.NotFound, message: 'the console has no file at this path' },
    notBuilt: { code: ErrorCode.Unavailable, message: 'The operator console is not built. Run `npm run build` (or `npm start`, which builds it first), then reload.' },
  };
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cross-origin-resource-policy', 'same-origin');
    return sendBuiltFile(reply, (req.params as { '*'?: string })['*'] ?? '', page);
  };

  app.get('/console', handler);
  app.get('/console/*', handler);
}
