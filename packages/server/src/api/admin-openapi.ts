import { routeParts, Routes } from '@kluis/protocol';
import { Type } from '@sinclair/typebox';
import type { RouteDef } from './route.js';
import { defineRoute } from './route.js';

/** SPDX id, as in every package.json of the repository (the lint test checks they agree). */
export const LICENSE = 'AGPL-3.0-only';

/**
 * OpenAPI 3.1 for the operator API, built from the same route table and TypeBox schemas
 * that validate requests (3.1 takes JSON Schema as is), so the document cannot drift.
 */
export function buildOpenApi(routes: readonly RouteDef[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const { method, path } = routeParts(Routes[route.name]);
    if (!path.startsWith('/admin/') || route.name === 'adminOpenApi') continue;
    const openPath = path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters = [
      ...schemaParams(route.params, 'path'),
      ...schemaParams(route.query, 'query'),
    ];
    const op: Record<string, unknown> = {
      operationId: route.name,
      // No fallback to the name: a route without a summary fails the redocly lint test.
      ...(route.summary && { summary: route.summary }),
      tags: [path.split('/')[2]],
      security: [{ adminToken: [] }],
      ...(route.auth === 'operator' && { description: 'Operator role only.' }),
      ...(parameters.length && { parameters }),
      ...(route.body && {
        requestBody: { required: !route.bodyOptional, content: { 'application/json': { schema: strip(route.body) } } },
      }),
      responses: {
        200: { description: 'OK', content: { 'application/json': { schema: route.response ? strip(route.response) : {} } } },
        400: errorResponse('invalid input; the message names the field'),
        401: errorResponse('missing, invalid or revoked admin token'),
        403: errorResponse('the token may not do this (role or brand)'),
        404: errorResponse('no such brand, plan, code, account or admin'),
        409: errorResponse('conflicts with the current state (duplicate slug, retired brand or plan)'),
      },
    };
    (paths[openPath] ??= {})[method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'kluis operator API',
      version: '1',
      description: 'Brands, plans, invite and renewal codes, accounts, admin tokens and the audit log. Errors are JSON {code, message}.',
      license: { name: 'GNU Affero General Public License v3.0 only', identifier: LICENSE },
    },
    // Relative: the document is served by the node it describes, whatever URL or proxy reached it.
    servers: [{ url: '/', description: 'the server that served this document' }],
    paths,
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'an admin token (operator or brand-admin)' } },
      schemas: { Error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
    },
  };
}

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}

/** TypeBox adds a symbol-keyed [Kind]; JSON.stringify drops symbols, so a JSON round trip is a clean copy. */
function strip(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema));
}

function schemaParams(schema: RouteDef['params'], where: 'path' | 'query') {
  const props = (schema as { properties?: Record<string, unknown>; required?: string[] } | undefined)?.properties ?? {};
  const required = new Set((schema as { required?: string[] } | undefined)?.required ?? []);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: strip(s) }));
}

/** The document is built once, on first request, from the routes the server runs. */
export function openApiRoute(routes: () => readonly RouteDef[]): RouteDef {
  let doc: Record<string, unknown> | undefined;
  return defineRoute({
    name: 'adminOpenApi',
    auth: 'none',
    response: Type.Any(),
    async handler() {
      return (doc ??= buildOpenApi(routes()));
    },
  });
}
