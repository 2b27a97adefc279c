import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ErrorCode, PRIMARY_DEVICE_ID, routeParts, Routes } from '@kluis/protocol';
import type { AdminIdentity } from '../auth/admin-auth.js';
import type { DeviceIdentity } from '../auth/device-auth.js';
import type { AppContext } from '../context.js';
import { ApiError, isStoreUnavailable, notPrimary, RETRY_AFTER_SECONDS, storeUnavailable } from '../errors.js';
import { requireOperator } from '../auth/admin-auth.js';
import type { RouteDef } from './route.js';

/** Default body limit: a full key upload (100 Kyber keys) is ~220 KB of JSON. */
export const DEFAULT_BODY_LIMIT = 512 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    deviceIdentity: DeviceIdentity | null;
    adminIdentity: AdminIdentity | null;
  }
}

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** One readable sentence for the first schema violation, e.g. "body/messages/0/deviceId must be <= 127". */
function describeIssue(issue: ValidationIssue, dataVar: string): string {
  const where = `${dataVar}${issue.instancePath}`;
  if (issue.keyword === 'additionalProperties') return `${where} has an unknown property '${String(issue.params?.additionalProperty)}'`;
  if (issue.keyword === 'required') return `${where} is missing the required property '${String(issue.params?.missingProperty)}'`;
  return `${where} ${issue.message ?? 'is invalid'}`;
}

/** Maps whatever was thrown to the JSON error a client gets. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // e.g. authentication reading the database during an outage: retryable.
  if (isStoreUnavailable(err)) return storeUnavailable();
  const e = err as Partial<FastifyError> & { validation?: ValidationIssue[] };
  if (Array.isArray(e.validation)) {
    // A ciphertext over the size limit fails the schema's maxLength: that is a 413, not a 400.
    if (e.validation.some((v) => v.keyword === 'maxLength' && /\/content$/.test(v.instancePath))) {
      return new ApiError(ErrorCode.PayloadTooLarge, 'a message ciphertext is larger than 96 KiB');
    }
    return new ApiError(ErrorCode.BadRequest, e.message ?? 'invalid request');
  }
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

export function buildHttpApp(ctx: AppContext, routes: readonly RouteDef[]): FastifyInstance {
  const app = Fastify({
    // No logger at all: Fastify would otherwise log requests (URLs, IPs).
    logger: false,
    bodyLimit: DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: {
      // Strict: wrong types are errors (no coercion), unknown fields are errors (not stripped).
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
    schemaErrorFormatter: (errors, dataVar) => new Error(describeIssue(errors[0] as ValidationIssue, dataVar)),
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

  app.decorateRequest('deviceIdentity', null);
  app.decorateRequest('adminIdentity', null);

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(err);
    if (apiError.status >= 500 && apiError.code === ErrorCode.Internal) {
      // The route pattern, never the URL: paths carry account ids.
      ctx.log.error(`internal error in ${req.method} ${req.routeOptions.url ?? '(no route)'}`, err);
    }
    if (apiError.status === 503 || apiError.status === 429) reply.header('retry-after', String(apiError.extra?.retryAfterSeconds ?? RETRY_AFTER_SECONDS));
    return reply.code(apiError.status).type('application/json; charset=utf-8').send(apiError.toBody());
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
              req.deviceIdentity = await ctx.auth.device.authenticate(req.headers.authorization);
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

  app.server.on('upgrade', ctx.delivery.sockets.handleUpgrade);
  return app;
}
