import type { IncomingMessage, ServerResponse } from 'node:http';
import { normalizeUsername } from '@kluis/protocol';
import type { Client } from '@kluis/sdk';
import { AppError } from './errors.js';
import { USERNAME } from './schemas.js';
import type { AppSession } from './session.js';

/** What a route handler gets: the session, the decoded path parameters, and the raw exchange. */
export interface Ctx {
  session: AppSession;
  params: Record<string, string>;
  req: IncomingMessage;
  res: ServerResponse;
  body: () => Promise<unknown>;
}

/** A handler returns the JSON answer, or undefined after writing the response itself. */
export type Handler = (c: Ctx) => Promise<unknown>;

export interface Route {
  method: string;
  /** As declared, e.g. '/api/conversations/:conv/messages' (what logs may name). */
  path: string;
  pattern: RegExp;
  handler: Handler;
}

/** Collects the routes one file declares with `route(METHOD, '/api/x/:param', handler)`. */
export function defineRoutes(declare: (route: (method: string, path: string, handler: Handler) => void) => void): Route[] {
  const routes: Route[] = [];
  declare((method, path, handler) => routes.push({ method, path, pattern: new RegExp('^' + path.replace(/:(\w+)/g, '(?<$1>[^/]+)') + '$'), handler }));
  return routes;
}

export const client = (c: Ctx): Client => c.session.requireClient();
export const ok = { ok: true };

export function username(raw: string): string {
  const u = normalizeUsername(raw.replace(/^@/, ''));
  if (!USERNAME.test(u)) throw new AppError(400, 'BAD_USERNAME', 'a username is 3-32 characters of a-z 0-9 _ .');
  return u;
}

/** The SDK takes a username or a group's conversation id ("g:…"). */
export function conversation(raw: string): string {
  return raw.startsWith('g:') ? raw : username(raw);
}
