import type { Static, TSchema, TUnknown } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteName } from '@kluis/protocol';
import type { AdminIdentity } from '../auth/admin-auth.js';
import type { DeviceIdentity } from '../auth/device-auth.js';
import type { AppContext } from '../context.js';

/** 'operator': an admin token with the operator role; 'admin': any admin token (the handler scopes by brand). */
export type AuthKind = 'none' | 'device' | 'operator' | 'admin';
type IdentityFor<A extends AuthKind> = A extends 'device' ? DeviceIdentity : A extends 'operator' | 'admin' ? AdminIdentity : null;

export interface RouteInput<B, P, A extends AuthKind, Q = unknown> {
  body: B;
  params: P;
  query: Q;
  auth: IdentityFor<A>;
  /** For the few routes that stream (attachments): headers, status, the raw body stream. */
  http: { request: FastifyRequest; reply: FastifyReply };
}

/** One API method: its route name (protocol's `Routes`), schemas, auth and handler. */
export interface RouteDef {
  name: RouteName;
  auth: AuthKind;
  /** Only device 1 may call it (checked right after authentication, before the body). */
  primaryOnly?: boolean;
  body?: TSchema;
  /** A missing body counts as `{}` (every field of the schema is optional). */
  bodyOptional?: boolean;
  params?: TSchema;
  /** Query string (not coerced: numbers arrive as digit strings). */
  query?: TSchema;
  /** One line for the OpenAPI document. */
  summary?: string;
  /** The 200 body; Fastify serialises with it, so nothing outside the contract leaks. */
  response?: TSchema;
  bodyLimit?: number;
  handler(ctx: AppContext, input: RouteInput<unknown, unknown, AuthKind, unknown>): Promise<unknown>;
}

export function defineRoute<
  A extends AuthKind,
  B extends TSchema = TUnknown,
  P extends TSchema = TUnknown,
  R extends TSchema = TUnknown,
  Q extends TSchema = TUnknown,
>(def: {
  name: RouteName;
  auth: A;
  primaryOnly?: A extends 'device' ? boolean : never;
  body?: B;
  bodyOptional?: boolean;
  params?: P;
  query?: Q;
  summary?: string;
  response?: R;
  bodyLimit?: number;
  handler(ctx: AppContext, input: RouteInput<Static<B>, Static<P>, A, Static<Q>>): Promise<Static<R>>;
}): RouteDef {
  return def as unknown as RouteDef;
}
