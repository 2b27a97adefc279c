import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppApi, AppBody, AppHeaders, AppParams, AppQuery, AppResponse, AppRouteName } from './api/index.js';
import type { AppSession } from './session.js';

/** What a handler gets: the session, the checked input of its route, and the exchange (for bytes). */
export interface RouteInput<K extends AppRouteName> {
  session: AppSession;
  params: AppParams<K>;
  query: AppQuery<K>;
  headers: AppHeaders<K>;
  /** The JSON body, or the bytes of a raw-body route (POST /api/files). */
  body: AppApi[K] extends { rawBody: true } ? Buffer | undefined : AppBody<K>;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** A JSON route answers its contract's response; a binary one sends on the reply and returns it. */
export type RouteResult<K extends AppRouteName> = AppApi[K] extends { binary: true } ? FastifyReply : AppResponse<K>;

export interface AppRouteDef {
  name: AppRouteName;
  handler(input: RouteInput<AppRouteName>): Promise<unknown>;
}

/** One route of the contract (api/contract.ts) with its handler; the types come from the contract. */
export function defineRoute<K extends AppRouteName>(name: K, handler: (input: RouteInput<K>) => Promise<RouteResult<K>>): AppRouteDef {
  return { name, handler: handler as unknown as AppRouteDef['handler'] };
}
