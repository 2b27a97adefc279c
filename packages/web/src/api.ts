/**
 * The local host's API: JSON over fetch with the session token as a bearer, and one
 * WebSocket of live events. Everything goes to this page's own origin (127.0.0.1).
 * Routes, inputs and answers are the host's contract (@kluis/app/api), imported as types:
 * a call names a route and gets that route's answer type.
 */
import { appRouteParts, appRoutePath, EVENTS_PATH, type AppRouteName } from '@kluis/app/api/routes';
import type { AppBody, AppEvent, AppJsonRoute, AppParams, AppQuery, AppResponse } from '@kluis/app/api';

const TOKEN_KEY = 'kluis.app.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The token arrives in the URL fragment once; it is kept in this tab only and removed from the address bar. */
export function takeToken(): string | undefined {
  const m = /(?:^#|&)token=([0-9a-f]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]!);
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

let token = '';
export function setToken(t: string): void {
  token = t;
}

/** Routes the host answers whether or not the profile is unlocked. */
const ALWAYS = new Set<AppRouteName>(['state', 'unlock', 'lock']);
let lockedHere = false;
/**
 * From the moment the page locks, nothing else asks the host for the profile's data: a
 * timer or an event handler that was already queued (the page renders later) fails here
 * instead of reaching a host that is locking the store away.
 */
export function setPageLocked(locked: boolean): void {
  lockedHere = locked;
}

/** What a call of route K takes: its path parameters and body where it has them, its query if any. */
export type CallOptions<K extends AppRouteName> = (AppParams<K> extends undefined ? { params?: undefined } : { params: AppParams<K> }) &
  (AppBody<K> extends undefined ? { body?: undefined } : { body: AppBody<K> }) & (AppQuery<K> extends undefined ? { query?: undefined } : { query?: AppQuery<K> });
type CallArgs<K extends AppRouteName> = {} extends CallOptions<K> ? [options?: CallOptions<K>] : [options: CallOptions<K>];

function url<K extends AppRouteName>(route: K, o: { params?: object; query?: object } = {}): { method: string; href: string } {
  if (lockedHere && !ALWAYS.has(route)) throw new ApiError(423, 'LOCKED', 'the app is locked');
  const { method, path } = appRouteParts(route);
  const href = new URL(appRoutePath(path, (o.params ?? {}) as Record<string, string>), location.origin);
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined && v !== '') href.searchParams.set(k, String(v));
  return { method, href: href.pathname + href.search };
}

async function request(method: string, href: string, body?: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(href, { method, headers: { authorization: `Bearer ${token}`, ...headers }, body, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'HOST_UNREACHABLE', 'the local host is not running');
  }
  if (!res.ok) {
    const b = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    throw new ApiError(res.status, String(b.code ?? 'ERROR'), String(b.message ?? res.statusText), b);
  }
  return res;
}

/** One JSON route of the host, e.g. `call('send', { params: { conv }, body: { text } })`. */
export async function call<K extends AppJsonRoute>(route: K, ...[o]: CallArgs<K>): Promise<AppResponse<K>> {
  const { method, href } = url(route, o);
  const body = o?.body;
  const res = await request(method, href, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : { 'content-type': 'application/json' });
  return (await res.json()) as AppResponse<K>;
}

/** POST /api/files: the file's bytes; the host answers the id a message then names. */
export async function upload(file: File, voice?: { durationMs: number }): Promise<string> {
  const { method, href } = url('upload');
  const res = await request(method, href, file, {
    'content-type': file.type || 'application/octet-stream',
    'x-file-name': encodeURIComponent(file.name),
    ...(voice ? { 'x-voice-note': '1', 'x-duration-ms': String(Math.round(voice.durationMs)) } : {}),
  });
  return ((await res.json()) as AppResponse<'upload'>).fileId;
}

/** An attachment's bytes (the page shows them as a blob: URL). */
export async function attachment(params: AppParams<'attachment'>): Promise<Blob> {
  const { method, href } = url('attachment', { params });
  return (await request(method, href)).blob();
}

/** Live events; reconnects with backoff while the host runs. Returns a stop function. */
export function listen(onEvent: (e: AppEvent) => void, onOpen: (open: boolean) => void): () => void {
  let ws: WebSocket | undefined;
  let stopped = false;
  let delay = 500;
  const connect = () => {
    ws = new WebSocket(`ws://${location.host}${EVENTS_PATH}`, ['kluis', `token.${token}`]);
    ws.onopen = () => {
      delay = 500;
      onOpen(true);
    };
    ws.onmessage = (m) => {
      try {
        onEvent(JSON.parse(String(m.data)) as AppEvent);
      } catch {
        /* not ours */
      }
    };
    ws.onclose = () => {
      onOpen(false);
      if (stopped) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };
  connect();
  return () => {
    stopped = true;
    ws?.close();
  };
}

export type { AppEvent };
