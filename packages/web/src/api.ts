/**
 * The local host's API: JSON over fetch with the session token as a bearer, and one
 * WebSocket of live events. Everything goes to this page's own origin (127.0.0.1).
 */
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

/** Paths the host answers whether or not the profile is unlocked. */
const ALWAYS = new Set(['/api/state', '/api/unlock', '/api/lock']);
let lockedHere = false;
/**
 * From the moment the page locks, nothing else asks the host for the profile's data: a
 * timer or an event handler that was already queued (the page renders later) fails here
 * instead of reaching a host that is locking the store away.
 */
export function setPageLocked(locked: boolean): void {
  lockedHere = locked;
}

async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  if (lockedHere && !ALWAYS.has(path)) throw new ApiError(423, 'LOCKED', 'the app is locked');
  let res: Response;
  try {
    const isJson = body !== undefined && !(body instanceof Blob);
    res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(isJson ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : isJson ? JSON.stringify(body) : (body as Blob),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'HOST_UNREACHABLE', 'the local host is not running');
  }
  if (!res.ok) {
    const b = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    throw new ApiError(res.status, String(b.code ?? 'ERROR'), String(b.message ?? res.statusText), b);
  }
  return res;
}

export const api = {
  async get<T>(path: string): Promise<T> {
    return (await (await request('GET', path)).json()) as T;
  },
  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return (await (await request('POST', path, body)).json()) as T;
  },
  async patch<T>(path: string, body: unknown): Promise<T> {
    return (await (await request('PATCH', path, body)).json()) as T;
  },
  async del<T>(path: string): Promise<T> {
    return (await (await request('DELETE', path)).json()) as T;
  },
  async upload(file: File, voice?: { durationMs: number }): Promise<string> {
    const res = await request('POST', '/api/files', file, {
      'content-type': file.type || 'application/octet-stream',
      'x-file-name': encodeURIComponent(file.name),
      ...(voice ? { 'x-voice-note': '1', 'x-duration-ms': String(Math.round(voice.durationMs)) } : {}),
    });
    return ((await res.json()) as { fileId: string }).fileId;
  },
  async blob(path: string): Promise<Blob> {
    return (await request('GET', path)).blob();
  },
};

export const enc = encodeURIComponent;

export interface AppEvent {
  type: string;
  data: any;
}

/** Live events; reconnects with backoff while the host runs. Returns a stop function. */
export function listen(onEvent: (e: AppEvent) => void, onOpen: (open: boolean) => void): () => void {
  let ws: WebSocket | undefined;
  let stopped = false;
  let delay = 500;
  const connect = () => {
    ws = new WebSocket(`ws://${location.host}/api/events`, ['kluis', `token.${token}`]);
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
