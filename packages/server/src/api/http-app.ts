import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BASE64_FORMAT, describeSchemaIssue, ErrorCode, isCanonicalBase64, type SchemaIssue, PRIMARY_DEVICE_ID, routeParts, Routes } from '@kluis/protocol';
import type { AdminIdentity } from '../auth/admin-auth.js';
import type { DeviceIdentity } from '../auth/device-auth.js';
import type { AppContext } from '../context.js';
import { ApiError, isStorageFull, isStoreUnavailable, notPrimary, RETRY_AFTER_SECONDS, storageFull, storeUnavailable } from '../errors.js';
import { requireOperator } from '../auth/admin-auth.js';
import type { RouteDef } from './route.js';
import { answerClientError, endWithError } from './raw-error-answers.js';
import { ConnectionGate, HEALTH_PATHS } from './connection-gate.js';

/** A connection with nothing sent either way for this long is closed, mid-request or not. */
export const INACTIVITY_TIMEOUT_MS = 60_000;

/** Default body limit: a full key upload (100 Kyber keys) is ~220 KB of JSON. */
export const DEFAULT_BODY_LIMIT = 512 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    deviceIdentity: DeviceIdentity | null;
    adminIdentity: AdminIdentity | null;
  }
  interface FastifyInstance {
    /** "METHOD /url" of every route registered on the app, its own and later ones (console, ops). */
    registeredRoutes: readonly string[];
  }
  interface FastifyInstance {
    /** Counts and caps TCP connections (connection-gate.ts). */
    connectionGate: import('./connection-gate.js').ConnectionGate;
  }
}

/** Maps whatever was thrown to the JSON error a client gets. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // e.g. authentication reading the database during an outage: retryable.
  if (isStoreUnavailable(err)) return storeUnavailable();
  if (isStorageFull(err)) return storageFull();
  const e = err as Partial<FastifyError> & { validation?: SchemaIssue[] };
  if (Array.isArray(e.validation)) {
    // A ciphertext over the size limit fails the schema's maxLength: that is a 413, not a 400.
    if (e.validation.some((v) => v.keyword === 'maxLength' && /\/content$/.test(v.instancePath))) {
      return new ApiError(ErrorCode.PayloadTooLarge, 'a message ciphertext is larger than 96 KiB');
    }
    return new ApiError(ErrorCode.BadRequest, e.message ?? 'invalid request');
  }
  // Fastify's router: a path that does not percent-decode, or a segment over maxParamLength.
  if (e.code === 'FST_ERR_BAD_URL') return new ApiError(ErrorCode.BadRequest, 'the path is not valid percent-encoded UTF-8');
  if (e.code === 'FST_ERR_MAX_PARAM_LENGTH') return new ApiError(ErrorCode.UriTooLong, `a path segment is longer than any route takes (${MAX_PARAM_LENGTH} characters)`);
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return new ApiError(ErrorCode.PayloadTooLarge, 'the request body is too large');
  if (status === 415) return new ApiError(ErrorCode.BadRequest, 'the request body must be JSON (Content-Type: application/json)', undefined, 415);
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
    return new ApiError(ErrorCode.BadRequest, 'the request body is not valid JSON');
  }
  if (status === 401) return new ApiError(ErrorCode.Unauthorized, e.message ?? 'unauthorized');
  if (status === 404) return new ApiError(ErrorCode.NotFound, e.message ?? 'not found');
  if (status === 503) return new ApiError(ErrorCode.Unavailable, 'the server is shutting down; try again shortly');
  if (status >= 400 && status < 500) return new ApiError(ErrorCode.BadRequest, e.message ?? 'bad request', undefined, status);
  return new ApiError(ErrorCode.Internal, 'internal error');
}

/** Fastify's default: the longest path parameter (a username, an id) the router takes. */
const MAX_PARAM_LENGTH = 100;

function sendError(reply: FastifyReply, apiError: ApiError): FastifyReply {
  // A 507 (full queue or disk) carries a hint too, when it has one.
  const hinted = apiError.status === 507 && apiError.extra?.retryAfterSeconds !== undefined;
  if (apiError.status === 503 || apiError.status === 429 || hinted) reply.header('retry-after', String(apiError.extra?.retryAfterSeconds ?? RETRY_AFTER_SECONDS));
  return reply.code(apiError.status).type('application/json; charset=utf-8').send(apiError.toBody());
}

export function buildHttpApp(ctx: AppContext, routes: readonly RouteDef[]): FastifyInstance {
  let closing = false;
  const app = Fastify({
    // No logger at all: Fastify would otherwise log requests (URLs, IPs).
    logger: false,
    bodyLimit: DEFAULT_BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Fastify's own 503 while closing has its own body shape: the onRequest hook below answers instead.
    return503OnClosing: false,
    // A connection must send a whole request head within the idle timeout, from its first
    // byte (or from connecting, if it sends none): Node checks every second, not every 30 s.
    http: {
      // Node answers a missing Host with an empty 400; the onRequest hook below answers in our shape.
      requireHostHeader: false,
      maxHeaderSize: ctx.config.maxHeaderBytes,
      headersTimeout: ctx.config.idleTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, ctx.config.idleTimeoutMs),
    },
    keepAliveTimeout: ctx.config.idleTimeoutMs,
    // A request whose head arrived but whose body stalls: no byte either way for this long
    // closes it (WebSockets clear it: their heartbeat decides).
    connectionTimeout: INACTIVITY_TIMEOUT_MS,
    // Every answer Fastify or Node would write itself comes out as {code, message} (raw-error-answers.ts).
    clientErrorHandler: (err, socket) => answerClientError(err, socket, ctx.config.maxHeaderBytes),
    frameworkErrors: (err, _req, reply) => sendError(reply, toApiError(err)),
    forceCloseConnections: 'idle',
    ajv: {
      // Strict: wrong types are errors (no coercion), unknown fields are errors (not stripped).
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: false,
        // Protocol formats: the same checks TypeBox runs for socket frames and clients.
        formats: { [BASE64_FORMAT]: isCanonicalBase64 },
      },
    },
    // Response schemas with anyOf compile through fast-json-stringify's own Ajv: it must know the format too.
    serializerOpts: { ajv: { formats: { [BASE64_FORMAT]: isCanonicalBase64 } } },
    schemaErrorFormatter: (errors, dataVar) => new Error(describeSchemaIssue(errors[0] as SchemaIssue, dataVar)),
  });

  // Only JSON bodies. An empty body counts as none, so body-less POSTs with a JSON
  // content type are fine; routes that need a body fail their schema instead.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    parseJson(req, text, done);
  });
  // Attachment uploads: the body stays a stream for the route to consume (never buffered).
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  // Tests check that the bad-input and authorization matrices cover every route.
  const registered: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) registered.push(`${method} ${r.url}`);
  });
  app.decorate('registeredRoutes', registered);

  app.decorateRequest('deviceIdentity', null);
  app.decorateRequest('adminIdentity', null);

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(err);
    // Any route's write can be the first to find the disk full (the guard logs it).
    if (isStorageFull(err)) ctx.storage.report(err);
    if (apiError.status >= 500 && apiError.code === ErrorCode.Internal) {
      // The route pattern, never the URL: paths carry account ids.
      ctx.log.error(`internal error in ${req.method} ${req.routeOptions.url ?? '(no route)'}`, err);
    }
    return sendError(reply, apiError);
  });

  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (req) => {
    if (closing) throw new ApiError(ErrorCode.Unavailable, 'the server is shutting down; try again shortly', { retryAfterSeconds: RETRY_AFTER_SECONDS });
    if (req.raw.httpVersionMajor === 1 && req.raw.httpVersionMinor >= 1 && req.headers.host === undefined) {
      throw new ApiError(ErrorCode.BadRequest, 'an HTTP/1.1 request must carry a Host header');
    }
  });

  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    return reply
      .code(404)
      .type('application/json; charset=utf-8')
      .send({ code: ErrorCode.NotFound, message: `there is no ${req.method} route at this path` });
  });

  for (const route of routes) {
    const { method, path } = routeParts(Routes[route.name]);
    app.route({
      method: method as 'GET',
      url: path,
      bodyLimit: route.bodyLimit,
      schema: {
        ...(route.body && { body: route.body }),
        ...(route.params && { params: route.params }),
        ...(route.query && { querystring: route.query }),
        ...(route.response && { response: { 200: route.response } }),
      },
      // Before the body is read or validated: strangers learn nothing about the schema.
      onRequest:
        route.auth === 'device'
          ? async (req) => {
              req.deviceIdentity = await ctx.auth.device.authenticate(req.headers.authorization, req.ip);
              if (route.primaryOnly && req.deviceIdentity.deviceId !== PRIMARY_DEVICE_ID) throw notPrimary();
            }
          : route.auth === 'operator' || route.auth === 'admin'
            ? async (req) => {
                req.adminIdentity = await ctx.auth.admin.authenticate(req.headers.authorization);
                if (route.auth === 'operator') requireOperator(req.adminIdentity);
              }
            : undefined,
      preValidation: route.bodyOptional
        ? async (req) => {
            if (req.body === undefined || req.body === null) req.body = {};
          }
        : undefined,
      handler: async (req, reply) => {
        const auth = route.auth === 'device' ? req.deviceIdentity : route.auth === 'none' ? null : req.adminIdentity;
        return route.handler(ctx, { body: req.body, params: req.params, query: req.query, auth: auth as DeviceIdentity, http: { request: req, reply } });
      },
    });
  }

  const gate = new ConnectionGate({
    maxConnections: ctx.config.maxConnections,
    maxPerSource: ctx.config.maxConnectionsPerSource,
    onRefused: (cap) => ctx.metrics.connectionsRefused[cap]++,
    onEvicted: () => ctx.metrics.connectionsEvicted++,
  });
  gate.attach(app.server);
  app.decorate('connectionGate', gate);
  // Above the connection cap: a few more connections, for health checks and metrics only.
  app.addHook('onRequest', async (req, reply) => {
    const socket = req.raw.socket;
    if (gate.isRefused(socket)) throw ConnectionGate.busy();
    if (!gate.inHeadroom(socket)) return;
    reply.header('connection', 'close');
    if (req.method !== 'GET' || !HEALTH_PATHS.has(req.url.split('?')[0]!)) throw ConnectionGate.busy();
  });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (gate.isRefused(socket as Socket)) return socket.destroy();
    if (gate.inHeadroom(socket as Socket)) {
      socket.on('error', () => {});
      return endWithError(socket, ConnectionGate.busy());
    }
    ctx.delivery.sockets.handleUpgrade(req, socket, head);
  });
  // Node would answer these itself: 417 with no body, or drop a CONNECT without a word.
  app.server.on('checkExpectation', (req, res) => {
    const error = new ApiError(ErrorCode.BadRequest, `the Expect header "${String(req.headers.expect).slice(0, 64)}" is not supported; only 100-continue is`, undefined, 417);
    const body = JSON.stringify(error.toBody());
    res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
  });
  app.server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => {});
    endWithError(socket, new ApiError(ErrorCode.BadRequest, 'CONNECT is not served: this server is not a proxy', undefined, 405));
  });
  return app;
}
