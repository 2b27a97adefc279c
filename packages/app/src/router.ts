import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonBody } from './body.js';
import type { Handler, Route } from './route-kit.js';
import { accountRoutes } from './routes/account.js';
import { contactRoutes } from './routes/contacts.js';
import { conversationRoutes } from './routes/conversations.js';
import { groupRoutes } from './routes/groups.js';
import { messageRoutes } from './routes/messages.js';
import { onboardingRoutes } from './routes/onboarding.js';
import type { AppSession } from './session.js';

const ROUTES: Route[] = [...onboardingRoutes, ...conversationRoutes, ...messageRoutes, ...groupRoutes, ...contactRoutes, ...accountRoutes];

export interface FoundRoute {
  /** The declared path with its :params, never the request's values. */
  path: string;
  handler: Handler;
  params: Record<string, string>;
}

/** The route for a method and path, or undefined (a 404 for the caller). */
export function findRoute(method: string, path: string): FoundRoute | undefined {
  for (const r of ROUTES) {
    if (r.method !== method) continue;
    const m = r.pattern.exec(path);
    if (m) return { path: r.path, handler: r.handler, params: { ...(m.groups ?? {}) } };
  }
  return undefined;
}

export async function runRoute(found: FoundRoute, session: AppSession, req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(found.params)) params[k] = decodeURIComponent(v);
  return found.handler({ session, params, req, res, body: () => jsonBody(req) });
}
