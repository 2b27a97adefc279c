import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BASE64_FORMAT, describeSchemaIssue, isCanonicalBase64, type SchemaIssue } from '@kluis/protocol';
import { AppApi, AppErrorCode, appRouteParts, type AppRouteContract } from './api/index.js';
import { AppError, toAppError } from './errors.js';
import { bearer, checkApi, checkTransport, type GuardConfig } from './guard.js';
import type { AppRouteDef } from './route.js';
import { accountRoutes } from './routes/account.js';
import { callRoutes } from './routes/calls.js';
import { contactRoutes } from './routes/contacts.js';
import { conversationRoutes } from './routes/conversations.js';
import { groupRoutes } from './routes/groups.js';
import { messageRoutes } from './routes/messages.js';
import { onboardingRoutes } from './routes/onboarding.js';
import type { AppSession } from './session.js';
import type { SlowRequestWatch } from './slow-requests.js';
import { securityHeaders, serveStatic } from './static-files.js';

/** Largest upload the page may hand the host in one request (the server has its own limit). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
const MAX_JSON_BYTES = 256 * 1024;
/** A group's conversation id is 66 characters; a percent-encoded username input stays below this. */
const MAX_PARAM_LENGTH = 256;

export const APP_ROUTES: readonly AppRouteDef[] = [...onboardingRoutes, ...conversationRoutes, ...messageRoutes, ...groupRoutes, ...contactRoutes, ...accountRoutes, ...callRoutes];

function sendError(reply: FastifyReply, e: AppError): FastifyReply {
  return reply
    .code(e.status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send({ code: e.code, message: e.message, ...(e.details ?? {}) });
}

const isApi = (url: string) => url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');

export interface AppHttpOptions {
  session: AppSession;
  guard: GuardConfig;
  distDir: string;
  slow: SlowRequestWatch;
  log: (line: string) => void;
}

/**
 * The local API on Fastify: every route of the contract (api/contract.ts) with its schemas,
 * behind the loopback guard, and the UI's static files for everything outside /api.
 */
export function buildAppHttp(o: AppHttpOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_JSON_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    forceCloseConnections: true,
    frameworkErrors: (err, _req, reply) => sendError(reply, toAppError(err)),
    ajv: {
      // Strict: wrong types are errors (no coercion), unknown fields are errors (not stripped).
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, formats: { [BASE64_FORMAT]: isCanonicalBase64 } },
    },
    serializerOpts: { ajv: { formats: { [BASE64_FORMAT]: isCanonicalBase64 } } },
    schemaErrorFormatter: (errors, dataVar) => new Error(describeSchemaIssue(errors[0] as SchemaIssue, dataVar)),
  });

  // JSON only, with its content type: a form post from another page cannot pose as one.
  // An empty body counts as none (a POST that needs no input).
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    parseJson(req, text, done);
  });

  // Everything, static files included: a loopback peer and this host's own Host header.
  // The API and a CORS preflight: also its own origin and the token (no CORS headers are
  // ever sent, so a browser refuses any other page the answer).
  app.addHook('onRequest', async (req, reply) => {
    checkTransport(req.raw, o.guard);
    securityHeaders(reply, req.headers.host!);
    reply.header('cache-control', 'no-store');
    // By the matched route as well as the URL: the router decodes the path, so "/%61pi/…"
    // reaches an /api route while its raw URL does not start with "/api".
    if (isApi(req.url) || (req.routeOptions.url ?? '').startsWith('/api')) checkApi(req.raw, o.guard, bearer(req.raw));
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const e = toAppError(err);
    if (e.status >= 500) o.log(`kluis app: ${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}: ${(err as Error)?.stack ?? String(err)}`);
    return sendError(reply, e);
  });

  const register = (scope: FastifyInstance, route: AppRouteDef) => {
    const { method, path } = appRouteParts(route.name);
    const c: AppRouteContract = AppApi[route.name];
    scope.route({
      method,
      url: path,
      ...(c.rawBody ? { bodyLimit: MAX_UPLOAD_BYTES } : {}),
      schema: {
        ...(c.body && { body: c.body }),
        ...(c.params && { params: c.params }),
        ...(c.query && { querystring: c.query }),
        ...(c.headers && { headers: c.headers }),
        ...(c.response && { response: { 200: c.response } }),
      },
      // A JSON route that needs a body but got none: checked as {} (its schema says what is missing).
      ...(c.body ? { preValidation: async (req: FastifyRequest) => void (req.body ??= {}) } : {}),
      handler: async (req, reply) => {
        const done = o.slow.start(`${method} ${path}`);
        try {
          return await route.handler({ session: o.session, params: req.params, query: req.query, headers: req.headers, body: req.body, request: req, reply } as never);
        } finally {
          done();
        }
      },
    });
  };

  const raw = APP_ROUTES.filter((r) => (AppApi[r.name] as AppRouteContract).rawBody);
  for (const r of APP_ROUTES) if (!raw.includes(r)) register(app, r);
  // Uploads: the body is the file itself, of any type, up to MAX_UPLOAD_BYTES.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_UPLOAD_BYTES }, (_req, body, done) => done(null, body));
    for (const r of raw) register(scope, r);
  });

  app.get('/*', async (req, reply) => {
    if (isApi(req.url)) throw new AppError(404, AppErrorCode.NotFound, 'no such API route');
    let path: string;
    try {
      path = decodeURIComponent(req.url.split('?')[0]!);
    } catch {
      throw new AppError(404, AppErrorCode.NotFound, 'no such file');
    }
    return serveStatic(reply, o.distDir, path);
  });
  app.setNotFoundHandler(async (req) => {
    if (isApi(req.url)) throw new AppError(404, AppErrorCode.NotFound, 'no such API route');
    throw new AppError(405, AppErrorCode.Method, 'method not allowed');
  });
  return app;
}
